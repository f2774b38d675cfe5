import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, eventually, getObject, http, killNode, startFails, startNode, stopNode, tempDir, type NodeProc } from './proc.ts';

// Three real `chorus start` processes on 127.0.0.1, talking over real sockets.

describe('a three-node mesh of real processes', () => {
  const dirs = [tempDir(), tempDir(), tempDir()];
  const nodes: NodeProc[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((n) => killNode(n)));
    cleanup(...dirs);
  });

  it('forms, replicates both ways, and a restarted node catches up with generation +1', async () => {
    const a = await startNode(dirs[0]!, ['--name', 'a']);
    nodes.push(a);
    const seed = `127.0.0.1:${a.port}`;
    const [b, c] = await Promise.all([startNode(dirs[1]!, ['--name', 'b', '--seed', seed]), startNode(dirs[2]!, ['--name', 'c', '--seed', seed])]);
    nodes.push(b, c);
    await eventually('all three see each other alive', async () => {
      for (const n of [a, b, c]) {
        const m = (await http(`${n.url}/api/v1/members`)).body.members as { status: string }[];
        if (m.length !== 3 || m.some((x) => x.status !== 'alive')) return undefined;
      }
      return true;
    });

    // A PUT on A is readable on B and C.
    expect((await http(`${a.url}/api/v1/objects/kitchen-light`, 'PUT', { fields: { on: true, level: 80 } })).status).toBe(200);
    for (const n of [b, c]) await eventually(`light on ${n.url}`, async () => ((await getObject(n, 'kitchen-light'))?.on === true ? true : undefined));

    // A PATCH of location on B shows on A.
    expect((await http(`${b.url}/api/v1/objects/kitchen-light`, 'PATCH', { location: { x: 3, y: 4 } })).status).toBe(200);
    await eventually('location on A', async () => (JSON.stringify((await getObject(a, 'kitchen-light'))?.location) === '{"x":3,"y":4}' ? true : undefined));
    expect(await getObject(a, 'kitchen-light')).toEqual({ on: true, level: 80, location: { x: 3, y: 4 } });

    // C dies hard; writes continue; C comes back with generation +1 and catches up.
    await killNode(c);
    for (let i = 0; i < 20; i++) expect((await http(`${a.url}/api/v1/objects/sensor-${i}`, 'PUT', { fields: { t: 20 + i } })).status).toBe(200);
    expect((await http(`${b.url}/api/v1/objects/kitchen-light`, 'DELETE')).status).toBe(200);
    const c2 = await startNode(dirs[2]!, ['--name', 'c', '--seed', seed]);
    nodes.push(c2);
    expect(c2.nodeId).toBe(c.nodeId);
    expect(c2.generation).toBe(c.generation + 1);
    await eventually('C caught up', async () => {
      for (let i = 0; i < 20; i++) if ((await getObject(c2, `sensor-${i}`))?.t !== 20 + i) return undefined;
      return (await getObject(c2, 'kitchen-light')) === undefined ? true : undefined;
    });
    type Member = { nodeId: string; generation: number; status: string };
    await eventually('A sees C alive at generation 2', async () => {
      const m = ((await http(`${a.url}/api/v1/members`)).body.members as Member[]).find((x) => x.nodeId === c.nodeId);
      return m?.status === 'alive' && m.generation === c2.generation ? true : undefined;
    });

    // A graceful stop: B leaves (peers see 'left', not 'dead') and exits 0.
    expect(await stopNode(b)).toBe(0);
    await eventually('A sees B left', async () => {
      const m = ((await http(`${a.url}/api/v1/members`)).body.members as Member[]).find((x) => x.nodeId === b.nodeId);
      return m === undefined || m.status === 'left' ? m?.status ?? 'removed' : undefined;
    });
  });

  it('a node whose generation file was lost is raised above what the mesh remembers, persists it and says so', async () => {
    const [a, , , c2] = nodes as [NodeProc, NodeProc, NodeProc, NodeProc];
    // C dies hard and loses its generation file: its next start would be generation 1 again.
    await killNode(c2);
    rmSync(join(c2.data, 'generation'));
    const c3 = await startNode(c2.data, ['--name', 'c', '--seed', `127.0.0.1:${a.port}`]);
    nodes.push(c3);
    // It started at generation 1: its listening line says so (node.json may already hold the raised one).
    const raised = c2.generation + 1;
    await eventually('C raised its generation', async () => ((await http(`${c3.url}/api/v1/node`)).body.generation === raised ? true : undefined));
    // It started at generation 1 (node.json may already hold the raised one when startNode reads it).
    expect(c3.output()).toMatch(new RegExp(`generation went backwards: this node started at generation 1 .*raised to ${raised}`));
    expect(readFileSync(join(c3.data, 'generation'), 'utf8').trim()).toBe(String(raised));
    expect(JSON.parse(readFileSync(join(c3.data, 'node.json'), 'utf8'))).toMatchObject({ pid: c3.child.pid, generation: raised });
    type Member = { nodeId: string; generation: number; status: string };
    await eventually(`A sees C alive at generation ${raised}`, async () => {
      const m = ((await http(`${a.url}/api/v1/members`)).body.members as Member[]).find((x) => x.nodeId === c3.nodeId);
      return m?.status === 'alive' && m.generation === raised ? true : undefined;
    });
  });

  it('a taken fixed port exits at once with code 2 naming the port', async () => {
    const a = nodes[0]!;
    const dir = tempDir();
    try {
      const r = await startFails(['--data', dir, '--port', String(a.port)]);
      expect(r.code).toBe(2);
      expect(r.output).toContain(String(a.port));
    } finally {
      cleanup(dir);
    }
  });

  it('a second process on the same data directory exits with a clear error', async () => {
    const a = nodes[0]!;
    const r = await startFails(['--data', a.data]);
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/in use by process \d+/);
    expect((await http(`${a.url}/healthz`)).status).toBe(200);
  });

  it('refuses to listen beyond loopback without a key unless --insecure', async () => {
    const dir = tempDir();
    try {
      const r = await startFails(['--data', dir, '--host', '0.0.0.0']);
      expect(r.code).toBe(2);
      expect(r.output).toMatch(/refusing to listen on 0\.0\.0\.0 unencrypted/);
    } finally {
      cleanup(dir);
    }
  });
});
