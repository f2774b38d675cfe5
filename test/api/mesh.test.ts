import { describe, expect, it } from 'vitest';
import { PEER_B, PEER_C, SELF } from './fake-node.ts';
import { call, errorOf, makeApp } from './helpers.ts';

describe('mesh routes', () => {
  it('GET /api/v1/members lists this node first, then the others as their owners wrote them', async () => {
    const { app } = await makeApp();
    const r = await call(app, 'GET', '/api/v1/members');
    expect(r.statusCode).toBe(200);
    const { members } = r.json() as { members: { nodeId: string; status: string; addresses: string[]; port: number; tags: object }[] };
    expect(members.map((m) => [m.nodeId, m.status])).toEqual([
      [SELF, 'alive'],
      [PEER_B, 'alive'],
      [PEER_C, 'dead'],
    ]);
    expect(members[1]).toMatchObject({ addresses: ['10.0.0.2'], port: 7000, tags: {} });
  });

  it('GET /api/v1/node has identity, generation, addresses, port, uptime and peers with link state', async () => {
    const { app, node } = await makeApp();
    node.store.put('a', { on: true });
    const r = await call(app, 'GET', '/api/v1/node');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      nodeId: SELF,
      name: 'a',
      mesh: 'home',
      generation: 3,
      addresses: ['10.0.0.1'],
      port: 7000,
      uptimeS: 42,
      bootstrapping: false,
      store: { objects: 1 },
      peers: [
        { nodeId: PEER_B, status: 'alive', address: '10.0.0.2:7000', link: 'open' },
        { nodeId: PEER_C, status: 'dead', address: '10.0.0.3:7000', link: 'none' },
      ],
    });
  });

  it('GET /api/v1/replication has lag, confirmed seq and last contact per peer', async () => {
    const { app, node } = await makeApp();
    node.store.put('a', { on: true });
    const r = await call(app, 'GET', '/api/v1/replication');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      peers: [
        { nodeId: PEER_B, name: 'b', status: 'alive', lagRecords: 0, confirmedSeq: node.store.digest()[SELF], lastContactAgoMs: 120 },
        { nodeId: PEER_C, name: 'c', status: 'dead', lagRecords: null, confirmedSeq: 0, lastContactAgoMs: null },
      ],
    });
  });
});

describe('probes', () => {
  it('/healthz is 200 with its checks, 503 naming the failing ones', async () => {
    const { app, node } = await makeApp();
    let r = await call(app, 'GET', '/healthz');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: 'ok', checks: { process: true, storage: true, transport: true } });
    node.checks = { process: true, storage: false, transport: true };
    r = await call(app, 'GET', '/healthz');
    expect(r.statusCode).toBe(503);
    expect(errorOf(r)).toEqual({ code: 'CHORUS_UNHEALTHY', message: 'failing: storage', checks: { process: true, storage: false, transport: true } });
  });

  it('/readyz is 200 when ready, 503 while bootstrapping; reads and writes go on meanwhile', async () => {
    const { app, node } = await makeApp();
    expect((await call(app, 'GET', '/readyz')).json()).toEqual({ status: 'ready' });
    node.isReady = false;
    const r = await call(app, 'GET', '/readyz');
    expect(r.statusCode).toBe(503);
    expect(errorOf(r).code).toBe('CHORUS_NOT_READY');
    expect((await call(app, 'PATCH', '/api/v1/objects/a', { on: true })).statusCode).toBe(200);
    expect((await call(app, 'GET', '/api/v1/objects/a')).statusCode).toBe(200);
  });
});
