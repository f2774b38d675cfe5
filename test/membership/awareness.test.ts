import { describe, expect, it } from 'vitest';
import { AWARENESS_DELTA, nextAwareness, scaleByAwareness } from '../../src/membership/awareness.ts';

// Lifeguard's local health awareness, as memberlist's awareness.go computes it.

describe('nextAwareness', () => {
  const cases: [score: number, delta: number, max: number, expected: number][] = [
    [0, AWARENESS_DELTA.probeFailed, 8, 1],
    [3, AWARENESS_DELTA.refuted, 8, 4],
    [3, AWARENESS_DELTA.probeAcked, 8, 2],
    [0, AWARENESS_DELTA.probeAcked, 8, 0], // never below 0
    [7, AWARENESS_DELTA.probeFailed, 8, 7], // never above max − 1
    [6, 5, 8, 7],
    [7, -10, 8, 0],
    [0, 1, 1, 0], // a multiplier of 1 turns awareness off
    [2, 1, 3, 2],
  ];
  it.each(cases)('score %i, delta %i, max multiplier %i → %i', (score, delta, max, expected) => {
    expect(nextAwareness(score, delta, max)).toBe(expected);
  });
});

describe('scaleByAwareness', () => {
  const cases: [ms: number, score: number, expected: number][] = [
    [1000, 0, 1000],
    [1000, 1, 2000],
    [500, 7, 4000],
    [200, 3, 800],
  ];
  it.each(cases)('%i ms at score %i → %i ms', (ms, score, expected) => {
    expect(scaleByAwareness(ms, score)).toBe(expected);
  });
});
