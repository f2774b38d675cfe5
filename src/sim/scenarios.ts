import type { Scenario } from './scenario.ts';
import { CLOCK_SCENARIOS } from './scenarios-clock.ts';
import { NETWORK_SCENARIOS } from './scenarios-network.ts';
import { PROCESS_SCENARIOS } from './scenarios-process.ts';
import { TTL_SCENARIOS } from './scenarios-ttl.ts';

export type { Scenario, Timing } from './scenario.ts';
export type { FaultControl } from './fault-control.ts';

/** Every scenario by name. */
export const SCENARIOS: readonly Scenario[] = [...NETWORK_SCENARIOS, ...PROCESS_SCENARIOS, ...CLOCK_SCENARIOS, ...TTL_SCENARIOS];

/** A scenario by name, or undefined. */
export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
