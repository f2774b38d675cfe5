import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/core/ids.ts';
import {
  expectedConfirmations,
  remainingSuspicionTime,
  retransmitLimit,
  Suspicion,
  suspicionBounds,
} from '../../src/membership/index.ts';

describe('remainingSuspicionTime (memberlist suspicion_test.go table)', () => {
  // [confirmations, k, elapsedMs, minMs, maxMs, expectedMs]
  const cases: [number, number, number, number, number, number][] = [
    [0, 3, 0, 2000, 30_000, 30_000],
    [1, 3, 2000, 2000, 30_000, 14_000],
    [2, 3, 3000, 2000, 30_000, 4810],
    [3, 3, 4000, 2000, 30_000, -2000],
    [4, 3, 5000, 2000, 30_000, -3000],
    [5, 3, 10_000, 2000, 30_000, -8000],
    // No confirmation expected: the minimum from the start.
    [0, 0, 0, 2000, 30_000, 2000],
    [0, 0, 500, 2000, 30_000, 1500],
    // min == max: no shrinking at all.
    [2, 3, 0, 5000, 5000, 5000],
  ];
  it.each(cases)('c=%i k=%i elapsed=%i min=%i max=%i → %i', (c, k, elapsed, min, max, expected) => {
    expect(remainingSuspicionTime(c, k, elapsed, min, max)).toBe(expected);
  });
});

describe('suspicionBounds (memberlist suspicionTimeout: mult · max(1, log10 n) · interval)', () => {
  // memberlist's TestSuspicionTimeout uses mult 3 and a 1 s interval.
  const cases: [number, number][] = [
    [0, 3000],
    [1, 3000],
    [5, 3000],
    [10, 3000],
    [50, 5094],
    [100, 6000],
    [500, 8094],
    [1000, 9000],
  ];
  it.each(cases)('n=%i → min %i ms, max 6×', (n, minMs) => {
    expect(suspicionBounds({ suspicionMult: 3, suspicionMaxTimeoutMult: 6, probeIntervalMs: 1000 }, n)).toEqual({ minMs, maxMs: 6 * minMs });
  });

  it('expects suspicionMult − 2 confirmations, or none when too few members can give them', () => {
    expect(expectedConfirmations(4, 10)).toBe(2);
    expect(expectedConfirmations(4, 4)).toBe(2);
    expect(expectedConfirmations(4, 3)).toBe(0);
    expect(expectedConfirmations(3, 3)).toBe(1);
    expect(expectedConfirmations(1, 100)).toBe(0);
  });
});

describe('Suspicion', () => {
  const a = 'a'.repeat(32) as NodeId;
  const b = 'b'.repeat(32) as NodeId;
  const c = 'c'.repeat(32) as NodeId;
  const d = 'd'.repeat(32) as NodeId;

  it('counts each independent source once, never the first, never beyond k', () => {
    const s = new Suspicion(1000, 2, { minMs: 2000, maxMs: 30_000 }, a);
    expect(s.remaining(1000)).toBe(30_000);
    expect(s.confirm(a)).toBe(false);
    expect(s.confirm(undefined)).toBe(false);
    expect(s.confirm(b)).toBe(true);
    expect(s.confirm(b)).toBe(false);
    expect(s.confirmations).toBe(1);
    expect(s.confirm(c)).toBe(true);
    expect(s.confirm(d)).toBe(false);
    expect(s.confirmations).toBe(2);
    expect(s.remaining(3000)).toBe(0);
  });
});

describe('retransmitLimit: ceil(λ · log10(N + 1))', () => {
  const cases: [number, number, number][] = [
    [4, 1, 2],
    [4, 2, 2],
    [4, 3, 3],
    [4, 9, 4],
    [4, 99, 8],
    [2, 5, 2],
    [3, 10, 4],
    [1, 1, 1],
  ];
  it.each(cases)('λ=%i N=%i → %i', (mult, n, expected) => {
    expect(retransmitLimit(mult, n)).toBe(expected);
  });
});
