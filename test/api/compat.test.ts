import { describe, expect, it } from 'vitest';
import { PEER_B, PEER_C, SELF } from './fake-node.ts';
import { call, makeApp } from './helpers.ts';

// Seed 004: the consumer scheduler's POST /sync and POST /ip.

interface Peer {
  uuid: string;
  address: string;
  available: boolean;
  lastSeen: string | null;
  kind: string;
}

describe('POST /sync', () => {
  it('records the caller by uuid and source address, and answers with our id and the peers we know', async () => {
    const { app, node } = await makeApp();
    const first = await call(app, 'POST', '/sync', { uuid: 'consumer-1' }, { remoteAddress: '192.168.1.20' });
    expect(first.statusCode).toBe(200);
    const a = first.json() as { uuid: string; peers: Peer[] };
    expect(a.uuid).toBe(SELF);
    // Mesh members with their status; not the caller itself.
    expect(a.peers.map((p) => [p.uuid, p.kind, p.available])).toEqual([
      [PEER_B, 'member', true],
      [PEER_C, 'member', false],
    ]);
    expect(a.peers[0]?.address).toBe('10.0.0.2:7000');

    // A second consumer learns of the first through its sync, with the address it spoke from.
    node.clock.advance(1000);
    const second = (await call(app, 'POST', '/sync', { uuid: 'consumer-2', extra: 'ignored' }, { remoteAddress: '::ffff:192.168.1.21' })).json() as { peers: Peer[] };
    const c1 = second.peers.find((p) => p.uuid === 'consumer-1');
    expect(c1).toEqual({ uuid: 'consumer-1', address: '192.168.1.20', available: true, lastSeen: new Date(node.clock.now() - 1000).toISOString(), kind: 'compat' });
    // And the first learns of the second (IPv4-mapped addresses are written as IPv4).
    const again = (await call(app, 'POST', '/sync', { uuid: 'consumer-1' }, { remoteAddress: '192.168.1.20' })).json() as { peers: Peer[] };
    expect(again.peers.find((p) => p.uuid === 'consumer-2')?.address).toBe('192.168.1.21');
    expect(again.peers.some((p) => p.uuid === 'consumer-1')).toBe(false);
  });
});

describe('POST /ip', () => {
  it('moves a compat peer to its new address under the same uuid', async () => {
    const { app, node } = await makeApp();
    await call(app, 'POST', '/sync', { uuid: 'consumer-1' }, { remoteAddress: '192.168.1.20' });
    const r = await call(app, 'POST', '/ip', { uuid: 'consumer-1', ip: '192.168.1.99' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ uuid: SELF, peer: { uuid: 'consumer-1', address: '192.168.1.99', kind: 'compat', available: true } });
    expect(node.compat.size).toBe(1);
    const listed = (await call(app, 'POST', '/sync', { uuid: 'other' })).json() as { peers: Peer[] };
    expect(listed.peers.filter((p) => p.uuid === 'consumer-1').map((p) => p.address)).toEqual(['192.168.1.99']);
  });

  it('tells the engine to dial a mesh member at its new address (IPv6 in brackets), keeping its id', async () => {
    const { app, node } = await makeApp();
    const r = await call(app, 'POST', '/ip', { uuid: PEER_B, ip: 'fd00::2' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ peer: { uuid: PEER_B, address: '[fd00::2]:7000', kind: 'member' } });
    expect(node.dialled).toEqual(['[fd00::2]:7000']);
    expect(node.compat.size).toBe(0);
  });
});
