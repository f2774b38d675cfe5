import { ChorusError, ErrorCode } from '../core/errors.ts';
import type { SyncConfig } from '../sync/config.ts';
import type { Outcome } from './checkers.ts';
import { scenarioByName, SCENARIOS } from './scenarios.ts';
import { Simulation } from './simulation.ts';

/** Arguments of one simulated run, as the CLI and the tests give them. */
export interface RunArgs {
  readonly scenario: string;
  readonly nodes: number;
  readonly seed: number;
  readonly sync?: Partial<SyncConfig>;
  readonly trace?: boolean;
}

/** Outcome plus which promises were broken (empty when the run passed). */
export interface Verdict {
  readonly outcome: Outcome;
  readonly failures: string[];
  /** The command that replays this run exactly. */
  readonly replay: string;
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
  if (!Number.isSafeInteger(args.seed)) throw new ChorusError(ErrorCode.InvalidConfig, `--seed must be an integer, got ${args.seed}`);
  const sim = new Simulation({ nodes: args.nodes, seed: args.seed, scenario, ...(args.sync ? { sync: args.sync } : {}), ...(args.trace === false ? { trace: false } : {}) });
  const outcome = sim.run();
  const failures: string[] = [];
  if (!outcome.converged) failures.push('replicas did not converge to the acknowledged state');
  if (outcome.lostAckedWrites > 0) failures.push(`${outcome.lostAckedWrites} acknowledged writes lost`);
  if (outcome.resurrections > 0) failures.push(`${outcome.resurrections} deleted objects resurrected`);
  if (!outcome.membershipCorrect) failures.push('membership did not settle to the true liveness');
  if (scenario.lossOnly && outcome.falseDeaths > 0) failures.push(`${outcome.falseDeaths} alive nodes declared dead`);
  const replay = `chorus sim --scenario ${scenario.name} --nodes ${args.nodes} --seed ${args.seed} --json`;
  return { outcome, failures, replay };
}
