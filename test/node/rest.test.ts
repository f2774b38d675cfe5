import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, http, startNode, stopNode, tempDir, type NodeProc } from './proc.ts';

// The REST face of a real `chorus start`: limits from flags, compat peers kept across a restart.

describe('REST on a real node', () => {
  const dir = tempDir();
  const nodes: NodeProc[] = [];
  afterAll(async () => {
    for (const n of nodes) await stopNode(n);
    cleanup(dir);
  });

  it('takes the body and rate limits from flags', async () => {
    const n = await startNode(dir, ['--api-body-limit', '2048', '--api-rate-limit', '1', '--api-rate-burst', '2']);
    nodes.push(n);
    expect((await http(`${n.url}/api/v1/objects/a`, 'PATCH', { v: 'x'.repeat(4000) })).status).toBe(413);
    expect((await http(`${n.url}/readyz`)).status).toBe(200);
    const limited = await fetch(`${n.url}/healthz`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('CHORUS_RATE_LIMITED');
    expect(await stopNode(n)).toBe(0);
  });

  it('remembers compat peers from /sync and /ip across a restart', async () => {
    let n = await startNode(dir);
    nodes.push(n);
    expect((await http(`${n.url}/sync`, 'POST', { uuid: 'consumer-1' })).status).toBe(200);
    const moved = await http(`${n.url}/ip`, 'POST', { uuid: 'consumer-1', ip: '192.168.7.7' });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ uuid: n.nodeId, peer: { uuid: 'consumer-1', address: '192.168.7.7', kind: 'compat' } });
    expect(await stopNode(n)).toBe(0);

    n = await startNode(dir);
    nodes.push(n);
    const r = await http(`${n.url}/sync`, 'POST', { uuid: 'consumer-2' });
    expect(r.status).toBe(200);
    expect(r.body.uuid).toBe(n.nodeId);
    expect(r.body.peers).toEqual([expect.objectContaining({ uuid: 'consumer-1', address: '192.168.7.7', available: true, kind: 'compat' })]);
    expect((await http(`${n.url}/sync`, 'POST', { uuid: n.nodeId })).status).toBe(400);
  });
});
