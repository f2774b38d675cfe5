import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/sim/run.ts';
import { seedPlan, SHARDS } from './seeds.ts';

describe('simulated scenarios pass their checkers (share 4 of 4)', () => {
  it.each(seedPlan(3, SHARDS))('%s with %i nodes, seed %i', (scenario, nodes, seed) => {
    const { failures, replay } = runScenario({ scenario, nodes, seed, trace: false, checkInvariants: true });
    expect(failures, `${failures.join('; ')}\nreplay: ${replay}`).toEqual([]);
  });
});
