import { ChorusError, ErrorCode } from '../core/errors.ts';
import type { SyncConfig } from '../sync/config.ts';
import type { Outcome } from './checkers.ts';
import { scenarioByName, SCENARIOS } from './scenarios.ts';
import { parseSeed, type SeedInput } from './seed.ts';
import { Simulation } from './simulation.ts';

/** Arguments of one simulated run, as the CLI and the tests give them. */
export interface RunArgs {
  readonly scenario: string;
  readonly nodes: number;
  /** Any integer in 0..2^64−1 (decimal text, a safe integer or a bigint). */
  readonly seed: SeedInput;
  readonly sync?: Partial<SyncConfig>;
  readonly trace?: boolean;
  /** Debug mode: the cores' invariants after every step (see SimOptions.checkInvariants). */
  readonly checkInvariants?: boolean;
}

/** Outcome plus which promises were broken (empty when the run passed). */
export interface Verdict {
  readonly outcome: Outcome;
  readonly failures: string[];
  /** The command that replays this run exactly. */
  readonly replay: string;
}

/** The promises every run must keep, as failure descriptions (empty when all hold). */
function judge(outcome: Outcome, invariantSamples: readonly string[]): string[] {
  const failures: string[] = [];
  if (!outcome.converged) failures.push('replicas did not converge to the acknowledged state');
  if (outcome.lostAckedWrites > 0) failures.push(`${outcome.lostAckedWrites} acknowledged writes lost`);
  if (outcome.resurrections > 0) failures.push(`${outcome.resurrections} deleted objects resurrected`);
  if (!outcome.membershipCorrect) failures.push('membership did not settle to the true liveness');
  if (outcome.falseDeaths > 0) failures.push(`${outcome.falseDeaths} alive nodes declared dead`);
  if (outcome.earlyPushes > 0) failures.push(`${outcome.earlyPushes} own records pushed before their commit`);
  if (outcome.invariantViolations > 0) failures.push(`${outcome.invariantViolations} invariant violations, first: ${invariantSamples.join(' | ')}`);
  return failures;
}

/** Runs one scenario and judges it against the checkers. */
export function runScenario(args: RunArgs): Verdict {
  const scenario = scenarioByName(args.scenario);
  if (scenario === undefined) {
    throw new ChorusError(ErrorCode.InvalidConfig, `unknown scenario "${args.scenario}"; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  }
  if (!Number.isInteger(args.nodes) || args.nodes < scenario.minNodes) {
    throw new ChorusError(ErrorCode.InvalidConfig, `scenario ${scenario.name} needs --nodes to be an integer ≥ ${scenario.minNodes}, got ${args.nodes}`);
  }
  const seed = parseSeed(args.seed);
  const sim = new Simulation({
    nodes: args.nodes,
    seed,
    scenario,
    ...(args.sync ? { sync: args.sync } : {}),
    ...(args.trace === false ? { trace: false } : {}),
    ...(args.checkInvariants === true ? { checkInvariants: true } : {}),
  });
  const outcome = sim.run();
  const flags = args.checkInvariants === true ? ' --check-invariants' : '';
  const replay = `chorus sim --scenario ${scenario.name} --nodes ${args.nodes} --seed ${seed}${flags} --json`;
  return { outcome, failures: judge(outcome, sim.invariants.samples), replay };
}
