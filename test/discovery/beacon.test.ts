import { describe, expect, it } from 'vitest';
import { encode } from '../../src/core/codec.ts';
import type { NodeId } from '../../src/core/ids.ts';
import { encodeBeacon, encodePaddedQuery, largestAnnounceBytes, MAX_PAD_BYTES, MIN_QUERY_PAYLOAD_BYTES, parseBeacon, type Beacon } from '../../src/transport/beacon.ts';
import { broadcastAddresses, localIPv4Addresses } from '../../src/transport/discovery.ts';

const nodeId = 'ab'.repeat(16) as NodeId;

describe('beacon encoding', () => {
  it('round-trips queries and announcements, dropping the pad', () => {
    const a: Beacon = { kind: 'announce', mesh: 'home', nodeId, port: 8080, generation: 42 };
    expect(parseBeacon(encodeBeacon(a), 'home')).toEqual({ ok: true, beacon: a });
    const q = encodePaddedQuery({ mesh: 'home', nodeId, port: 1 });
    expect(parseBeacon(q, 'home')).toEqual({ ok: true, beacon: { kind: 'query', mesh: 'home', nodeId, port: 1 } });
  });

  it.each(['', 'home', 'x'.repeat(40), 'y'.repeat(255)])('a padded query of mesh %j is at least as large as any announcement', (mesh) => {
    const q = encodePaddedQuery({ mesh, nodeId, port: 1 });
    expect(q.length).toBeGreaterThanOrEqual(largestAnnounceBytes(mesh));
    expect(q.length).toBeGreaterThanOrEqual(MIN_QUERY_PAYLOAD_BYTES);
    expect(q.length).toBeLessThanOrEqual(Math.max(MIN_QUERY_PAYLOAD_BYTES, largestAnnounceBytes(mesh)) + 7); // the pad's key and header: at most 7 bytes over
    const biggest = encodeBeacon({ kind: 'announce', mesh, nodeId: 'f'.repeat(32) as NodeId, port: 65535, generation: Number.MAX_SAFE_INTEGER });
    expect(q.length).toBeGreaterThanOrEqual(biggest.length);
  });

  const ok = { kind: 'announce', mesh: 'home', nodeId, port: 8080 };
  it.each<[string, unknown, string]>([
    ['not an object', 'hello', 'invalid'],
    ['null', null, 'invalid'],
    ['an array', [ok], 'invalid'],
    ['unknown kind', { ...ok, kind: 'gossip' }, 'invalid'],
    ['mesh missing', { ...ok, mesh: undefined }, 'invalid'],
    ['node id upper case', { ...ok, nodeId: nodeId.toUpperCase() }, 'invalid'],
    ['port zero', { ...ok, port: 0 }, 'invalid'],
    ['port fractional', { ...ok, port: 80.5 }, 'invalid'],
    ['port as string', { ...ok, port: '80' }, 'invalid'],
    ['generation negative', { ...ok, generation: -1 }, 'invalid'],
    ['generation a string', { ...ok, generation: '1' }, 'invalid'],
    ['pad a string', { ...ok, pad: 'xxxx' }, 'invalid'],
    ['pad too long', { ...ok, pad: new Uint8Array(MAX_PAD_BYTES + 1) }, 'invalid'],
    ['another mesh', { ...ok, mesh: 'attic' }, 'mesh'],
  ])('refuses %s', (_name, value, reason) => {
    expect(parseBeacon(encode(value), 'home')).toEqual({ ok: false, reason });
  });

  it('refuses bytes that are not MessagePack, and ignores unknown fields', () => {
    expect(parseBeacon(Uint8Array.of(0xd9, 0x10), 'home')).toEqual({ ok: false, reason: 'decode' });
    expect(parseBeacon(encode({ ...ok, future: [1, 2] }), 'home')).toEqual({ ok: true, beacon: ok });
  });
});

describe('interface addresses', () => {
  const info = (address: string, netmask: string, internal = false, family = 'IPv4') => ({ address, netmask, family, internal, mac: '00:00:00:00:00:00', cidr: null }) as never;
  const table = {
    lo: [info('127.0.0.1', '255.0.0.0', true), info('::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', true, 'IPv6')],
    eth0: [info('192.168.1.20', '255.255.255.0'), info('fe80::1', 'ffff:ffff:ffff:ffff::', false, 'IPv6')],
    wlan0: [info('10.77.3.9', '255.255.0.0'), info('172.16.5.5', '255.255.255.252')],
    ptp: [info('100.64.0.1', '255.255.255.255'), info('100.64.0.2', '255.255.255.254')],
  };
  it('computes directed broadcasts from netmasks, none for /31 and /32 or loopback', () => {
    expect(broadcastAddresses(table)).toEqual(['10.77.255.255', '172.16.5.7', '192.168.1.255']);
  });
  it('lists non-internal IPv4 addresses', () => {
    expect(localIPv4Addresses(table)).toEqual(['10.77.3.9', '100.64.0.1', '100.64.0.2', '172.16.5.5', '192.168.1.20']);
  });
});
