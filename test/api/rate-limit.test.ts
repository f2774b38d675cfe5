import { describe, expect, it } from 'vitest';
import { buildHttp } from '../../src/api/http.ts';
import { RateLimiter } from '../../src/api/rate-limit.ts';
import { FakeNode } from './fake-node.ts';
import { call, errorOf, makeApp } from './helpers.ts';

describe('RateLimiter (token bucket per client)', () => {
  it.each([
    // perSecond, burst, request times (ms), expected waits (0 = allowed)
    [10, 2, [0, 0, 0], [0, 0, 100]],
    [10, 2, [0, 0, 50, 100], [0, 0, 50, 0]],
    [1, 1, [0, 500, 1000], [0, 500, 0]],
    [200, 400, [0, 0], [0, 0]],
  ])('%d/s burst %d at %j waits %j', (perSecond, burst, times, waits) => {
    const l = new RateLimiter({ perSecond, burst });
    expect(times.map((t) => l.take('10.0.0.9', t))).toEqual(waits);
  });

  it('keeps a bucket per client and never more than `burst` tokens after a quiet spell', () => {
    const l = new RateLimiter({ perSecond: 1, burst: 2 });
    expect([l.take('a', 0), l.take('a', 0), l.take('a', 0)]).toEqual([0, 0, 1000]);
    expect(l.take('b', 0)).toBe(0);
    expect([l.take('a', 100_000), l.take('a', 100_000), l.take('a', 100_000)]).toEqual([0, 0, 1000]);
  });

  it('forgets idle clients first when it tracks too many', () => {
    const l = new RateLimiter({ perSecond: 1, burst: 1, maxClients: 10 });
    l.take('busy', 0);
    for (let i = 0; i < 9; i++) l.take(`idle-${i}`, 0);
    expect(l.size).toBe(10);
    // At 0.5 s nobody has refilled: the oldest go until a tenth of the room is free.
    l.take('new-1', 500);
    expect(l.size).toBeLessThanOrEqual(10);
    // Later every bucket has refilled: all are forgotten except the newcomer.
    l.take('new-2', 5000);
    expect(l.size).toBe(1);
  });

  it('refuses a meaningless configuration', () => {
    expect(() => new RateLimiter({ perSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new RateLimiter({ perSecond: 1, burst: 0 })).toThrow(RangeError);
  });
});

describe('429 over HTTP', () => {
  it('limits each client address, loopback included, with Retry-After', async () => {
    let now = 0;
    const { app, node } = await makeApp({ rateLimit: { perSecond: 2, burst: 3 }, now: () => now });
    for (let i = 0; i < 3; i++) expect((await call(app, 'GET', '/api/v1/objects', undefined, { remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
    const r = await call(app, 'PATCH', '/api/v1/objects/a', { on: true }, { remoteAddress: '127.0.0.1' });
    expect(r.statusCode).toBe(429);
    expect(r.headers['retry-after']).toBe('1');
    expect(errorOf(r).code).toBe('CHORUS_RATE_LIMITED');
    expect(errorOf(r).message).toMatch(/too many requests from 127\.0\.0\.1: at most 2\/s \(burst 3\)/);
    expect(node.writes).toEqual([]);
    // Another address has its own bucket.
    expect((await call(app, 'GET', '/healthz', undefined, { remoteAddress: '192.168.1.5' })).statusCode).toBe(200);
    // Half a second later one token is back.
    now = 500;
    expect((await call(app, 'GET', '/healthz', undefined, { remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
    expect((await call(app, 'GET', '/healthz', undefined, { remoteAddress: '127.0.0.1' })).statusCode).toBe(429);
  });

  it('unknown routes count too, and perSecond 0 turns the limit off', async () => {
    const limited = await makeApp({ rateLimit: { perSecond: 1, burst: 1 }, now: () => 0 });
    expect((await call(limited.app, 'GET', '/nope')).statusCode).toBe(404);
    expect((await call(limited.app, 'GET', '/nope')).statusCode).toBe(429);
    const open = await makeApp({ rateLimit: { perSecond: 0, burst: 1 } });
    for (let i = 0; i < 50; i++) expect((await call(open.app, 'GET', '/healthz')).statusCode).toBe(200);
  });

  it('is on by default at 200/s with a burst of 400', async () => {
    const app = buildHttp(new FakeNode(), { now: () => 0 });
    const codes: number[] = [];
    for (let i = 0; i < 401; i++) codes.push((await app.inject({ method: 'GET', url: '/healthz' })).statusCode);
    expect(codes.filter((c) => c === 200)).toHaveLength(400);
    expect(codes[400]).toBe(429);
  });
});
