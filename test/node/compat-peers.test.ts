import { describe, expect, it } from 'vitest';
import { CompatPeers, hostPort, isCompatUuid } from '../../src/node/compat-peers.ts';

describe('CompatPeers (seed 004 registry)', () => {
  it('keeps one entry per uuid: a new address replaces the old, identity stays', () => {
    const p = new CompatPeers();
    p.seen('c1', '10.0.0.5', 1000);
    p.seen('c1', '10.0.0.9', 2000);
    expect(p.size).toBe(1);
    expect(p.get('c1')).toEqual({ uuid: 'c1', address: '10.0.0.9', lastSeenMs: 2000 });
  });

  it('is available while heard from recently, newest first', () => {
    const p = new CompatPeers([], { availableForMs: 60_000 });
    p.seen('old', '10.0.0.1', 0);
    p.seen('new', '10.0.0.2', 50_000);
    expect(p.views(70_000).map((v) => [v.uuid, v.available, v.lastSeen])).toEqual([
      ['new', true, new Date(50_000).toISOString()],
      ['old', false, new Date(0).toISOString()],
    ]);
  });

  it('forgets the least recently heard from beyond maxPeers', () => {
    const p = new CompatPeers([], { maxPeers: 2 });
    p.seen('a', '10.0.0.1', 1);
    p.seen('b', '10.0.0.2', 2);
    p.seen('a', '10.0.0.1', 3);
    p.seen('c', '10.0.0.3', 4);
    expect(p.toStored().map((x) => x.uuid)).toEqual(['a', 'c']);
  });

  it('round-trips through storage and drops malformed entries', () => {
    const p = new CompatPeers();
    p.seen('a', '10.0.0.1', 10);
    p.seen('b', 'fd00::1', 20);
    const stored = JSON.parse(JSON.stringify(p.toStored())) as unknown[];
    const restored = new CompatPeers([...stored, { uuid: 'bad', address: 'not-an-ip', lastSeenMs: 1 }, { uuid: '', address: '10.0.0.1', lastSeenMs: 1 }, 'junk', null]);
    expect(restored.toStored()).toEqual(p.toStored());
    expect(new CompatPeers({ not: 'a list' }).size).toBe(0);
  });

  it.each([
    ['consumer-1', true],
    ['x'.repeat(128), true],
    ['', false],
    ['x'.repeat(129), false],
    ['a\u0000b', false],
    ['a\u009fb', false],
    ['\ud800', false],
    [42, false],
  ])('isCompatUuid(%j) is %s', (uuid, ok) => {
    expect(isCompatUuid(uuid)).toBe(ok);
  });

  it('writes IPv6 hosts in brackets', () => {
    expect(hostPort('10.0.0.1', 80)).toBe('10.0.0.1:80');
    expect(hostPort('fd00::1', 80)).toBe('[fd00::1]:80');
  });
});
