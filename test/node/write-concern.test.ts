import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, eventually, getObject, http, killNode, startNode, tempDir, type NodeProc } from './proc.ts';

// Write concern through REST on three real `chorus start` processes: the answer waits for
// peers' STORED confirmations, and a timeout is 504 while the local write stands.

describe('write concern across real processes', () => {
  const dirs = [tempDir(), tempDir(), tempDir()];
  const nodes: NodeProc[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((n) => killNode(n)));
    cleanup(...dirs);
  });

  it('?replicas=2 confirms from both peers; with both killed it is 504 "0 of 2" and the write stays on A', async () => {
    const a = await startNode(dirs[0]!, ['--name', 'a']);
    nodes.push(a);
    const seed = `127.0.0.1:${a.port}`;
    const [b, c] = await Promise.all([startNode(dirs[1]!, ['--name', 'b', '--seed', seed]), startNode(dirs[2]!, ['--name', 'c', '--seed', seed])]);
    nodes.push(b, c);
    type Member = { nodeId: string; status: string };
    const membersOf = async (n: NodeProc): Promise<Member[]> => (await http(`${n.url}/api/v1/members`)).body.members as Member[];
    await eventually('all three see each other alive', async () => {
      for (const n of [a, b, c]) {
        const m = await membersOf(n);
        if (m.length !== 3 || m.some((x) => x.status !== 'alive')) return undefined;
      }
      return true;
    });

    const ok = await http(`${a.url}/api/v1/objects/porch-light?replicas=2&timeoutMs=5000`, 'PATCH', { on: true, level: 60 });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.fields).toEqual({ on: true, level: 60 });
    expect(ok.body.replicas.required).toBe(2);
    expect([...ok.body.replicas.confirmed].sort()).toEqual([b.nodeId, c.nodeId].sort());
    // Confirmed means stored: both peers serve it now, without waiting.
    expect(await getObject(b, 'porch-light')).toEqual({ on: true, level: 60 });
    expect(await getObject(c, 'porch-light')).toEqual({ on: true, level: 60 });

    // C dies: one replica is still there to confirm.
    await killNode(c);
    const one = await http(`${a.url}/api/v1/objects/porch-light?replicas=1&timeoutMs=5000`, 'PATCH', { level: 70 });
    expect(one.status, JSON.stringify(one.body)).toBe(200);
    expect(one.body.replicas).toEqual({ confirmed: [b.nodeId], required: 1 });

    // Once A sees C dead, "all" means the alive peers: B alone.
    await eventually('A sees C dead', async () => ((await membersOf(a)).find((m) => m.nodeId === c.nodeId)?.status === 'dead' ? true : undefined), 30_000);
    const all = await http(`${a.url}/api/v1/objects/porch-light?replicas=all&timeoutMs=5000`, 'PATCH', { level: 75 });
    expect(all.status, JSON.stringify(all.body)).toBe(200);
    expect(all.body.replicas).toEqual({ confirmed: [b.nodeId], required: 1 });

    // B dies too: nobody can confirm, the answer is 504 after the timeout, the write stands on A.
    await killNode(b);
    const started = Date.now();
    const late = await http(`${a.url}/api/v1/objects/porch-light?replicas=2&timeoutMs=1000`, 'PATCH', { level: 90 });
    expect(late.status, JSON.stringify(late.body)).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(late.body.error.code).toBe('CHORUS_WRITE_CONCERN_TIMEOUT');
    expect(late.body.error.message).toMatch(/only 0 of 2 required replicas confirmed it within 1000 ms/);
    expect(late.body.error.confirmed).toEqual([]);
    expect(late.body.error.required).toBe(2);
    expect(await getObject(a, 'porch-light')).toEqual({ on: true, level: 90 });
  });
});
