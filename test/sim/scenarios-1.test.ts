import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/sim/run.ts';
import { seedPlan } from './seeds.ts';

describe('simulated scenarios pass their checkers (share 2 of 2)', () => {
  it.each(seedPlan(1, 2))('%s with %i nodes, seed %i', (scenario, nodes, seed) => {
    const { outcome, failures, replay } = runScenario({ scenario, nodes, seed, trace: false });
    expect(failures, `${failures.join('; ')}\nreplay: ${replay}`).toEqual([]);
    expect(outcome.converged).toBe(true);
  });
});
