import { describe, expect, it } from 'vitest';
import { fullBucket, SourceRateLimiter, take } from '../../src/transport/rate-limit.ts';

describe('token bucket', () => {
  // Each step: [time ms, expected result of take()] with rate 5/s, burst 5.
  it.each<[string, [number, boolean][]]>([
    ['a full bucket allows a burst of 5, then refuses', [[0, true], [0, true], [0, true], [0, true], [0, true], [0, false], [0, false]]],
    ['one token returns every 200 ms', [[0, true], [0, true], [0, true], [0, true], [0, true], [199, false], [200, true], [200, false], [400, true]]],
    ['refill stops at the burst', [[0, true], [10_000, true], [10_000, true], [10_000, true], [10_000, true], [10_000, true], [10_000, false]]],
    ['a clock stepping back refills nothing', [[1000, true], [1000, true], [1000, true], [1000, true], [1000, true], [0, false], [1000, false], [1200, true]]],
  ])('%s', (_name, steps) => {
    const b = fullBucket(5, steps[0]?.[0] ?? 0);
    for (const [at, expected] of steps) expect(take(b, at, 5, 5)).toBe(expected);
  });
});

describe('SourceRateLimiter', () => {
  it('limits each source on its own, then all together', () => {
    const l = new SourceRateLimiter({ perSourcePerS: 2, globalPerS: 5 }, 0);
    expect(['a', 'a', 'a'].map((s) => l.allow(s, 0))).toEqual(['ok', 'ok', 'source']);
    expect(['b', 'b', 'c', 'c'].map((s) => l.allow(s, 0))).toEqual(['ok', 'ok', 'ok', 'global']);
    // A source over its own limit spends no global token: 'd' still gets the global refill.
    expect(l.allow('a', 100)).toBe('source');
    expect(l.allow('d', 200)).toBe('ok');
  });

  it('tracks at most maxSources, dropping idle ones first', () => {
    const l = new SourceRateLimiter({ perSourcePerS: 1, globalPerS: 1e6, maxSources: 3 }, 0);
    for (const s of ['a', 'b', 'c']) expect(l.allow(s, 0)).toBe('ok');
    expect(l.size).toBe(3);
    // At 1 s every bucket has refilled (idle): the sweep empties the table before adding 'd'.
    expect(l.allow('d', 1000)).toBe('ok');
    expect(l.size).toBe(1);
    // All active: the oldest goes, so the table never grows past its bound.
    for (const s of ['e', 'f', 'g', 'h']) expect(l.allow(s, 1000)).toBe('ok');
    expect(l.size).toBe(3);
  });
});
