import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/sim/run.ts';

describe('simulator determinism', () => {
  it('the same seed gives the same trace hash, message count and outcome', () => {
    const a = runScenario({ scenario: 'loss-10', nodes: 5, seed: 4242 });
    const b = runScenario({ scenario: 'loss-10', nodes: 5, seed: 4242 });
    expect(a.outcome.traceHash).toBe(b.outcome.traceHash);
    expect(a.outcome.messages).toBe(b.outcome.messages);
    expect({ ...a.outcome, wallMs: 0 }).toEqual({ ...b.outcome, wallMs: 0 });
  });

  it('a different seed gives a different run', () => {
    const a = runScenario({ scenario: 'loss-10', nodes: 5, seed: 1 });
    const b = runScenario({ scenario: 'loss-10', nodes: 5, seed: 2 });
    expect(a.outcome.traceHash).not.toBe(b.outcome.traceHash);
  });

  it('names the replay command of a run', () => {
    expect(runScenario({ scenario: 'steady', nodes: 3, seed: 7 }).replay).toBe('chorus sim --scenario steady --nodes 3 --seed 7 --json');
  });

  it('refuses an unknown scenario and a mesh too small for it, naming what was wrong', () => {
    expect(() => runScenario({ scenario: 'nope', nodes: 5, seed: 1 })).toThrow(/unknown scenario "nope"/);
    expect(() => runScenario({ scenario: 'bridge', nodes: 2, seed: 1 })).toThrow(/--nodes/);
  });
});
