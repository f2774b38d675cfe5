import { checkOutcome, membershipCorrect, type Outcome } from './checkers.ts';
import { faultControl } from './faults.ts';
import { semanticProblems } from './invariants.ts';
import type { Simulation } from './simulation.ts';

/**
 * After the false-death window has passed, how long the healed mesh is still watched, virtual
 * ms: a suspicion begun just after the window needs at least the minimum suspicion timeout to
 * turn into a declaration (4–6 s on the lan preset), so 10 s lets such a false death show.
 */
const OBSERVE_AFTER_WINDOW_MS = 10_000;
const SETTLE_STEP_MS = 1000;

/**
 * Plays the whole scenario on `sim` and checks the outcome: boot, random writes, the scenario's
 * faults until the end of the fault window, heal, then settle until the replicas converge and
 * membership is right, but never before the false-death window and the observation after it
 * have passed (nor after settleMaxMs). Ends with the semantic check on every running node.
 */
export function play(sim: Simulation): Outcome {
  const wall = performance.now();
  sim.startAll();
  if (sim.opts.clientWrites) sim.startWrites(1000);
  const faults = faultControl(sim);
  sim.opts.scenario.schedule(faults);
  sim.runUntil(sim.faultEndMs);
  // Heal: from here on, no faults and no new writes; wait for convergence and membership.
  sim.at(sim.faultEndMs, () => faults.heal());
  sim.watchConvergence(sim.faultEndMs + 1);
  const deadline = sim.faultEndMs + Math.max(sim.opts.settleMaxMs, sim.falseDeathWindowMs + OBSERVE_AFTER_WINDOW_MS);
  const watchedUntil = sim.faultEndMs + sim.falseDeathWindowMs + OBSERVE_AFTER_WINDOW_MS;
  let t = sim.faultEndMs;
  while (t < deadline) {
    t += SETTLE_STEP_MS;
    sim.runUntil(t);
    if (t >= watchedUntil && sim.convergedAt !== undefined && membershipCorrect(sim)) break;
  }
  for (const node of sim.nodes) sim.invariants.add(node, semanticProblems(node, sim.oracle), sim.now);
  return checkOutcome(sim, { convergedAt: sim.convergedAt, wallMs: performance.now() - wall });
}
