import { afterAll, describe, expect, it } from 'vitest';
import { seedDataDir } from './fixtures.ts';
import { cleanup, eventually, getObject, http, killNode, startNode, tempDir, type NodeProc } from './proc.ts';

describe('bootstrap by snapshot between real processes', () => {
  const dirs = [tempDir(), tempDir()];
  const nodes: NodeProc[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((n) => killNode(n)));
    cleanup(...dirs);
  });

  it('an empty node joining a node that holds 100,000 objects gets a full copy', async () => {
    const full = await seedDataDir(dirs[0]!, 100_000);
    const source = await startNode(dirs[0]!, ['--name', 'full']);
    nodes.push(source);
    expect(source.nodeId).toBe(full);
    expect((await http(`${source.url}/api/v1/node`)).body.store.objects).toBe(100_000);
    const started = Date.now();
    const empty = await startNode(dirs[1]!, ['--name', 'empty', '--seed', `127.0.0.1:${source.port}`]);
    nodes.push(empty);
    const info = await eventually(
      'the empty node holds all 100,000 objects',
      async () => {
        const n = (await http(`${empty.url}/api/v1/node`)).body;
        return n.store.objects === 100_000 && n.bootstrapping === false ? n : undefined;
      },
      120_000,
    );
    expect(info.store.liveFields).toBe(300_000);
    console.log(`bootstrap of 100,000 objects took ${Date.now() - started} ms (including process start)`);
    expect(await getObject(empty, 'device-099999')).toEqual({ on: false, level: 99, room: `room-${99_999 % 17}` });
    // After bootstrap, deltas flow as usual.
    await http(`${source.url}/api/v1/objects/device-000000`, 'PATCH', { level: 42 });
    await eventually('a later write', async () => ((await getObject(empty, 'device-000000'))?.level === 42 ? true : undefined));
  });
});
