import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startWatch, type WatchProc } from '../cli/helpers.ts';
import { cleanup, eventually, http, killNode, startNode, stopNode, tempDir, type NodeProc } from './proc.ts';

// Three real `chorus start` processes; `chorus watch` on C sees what `chorus set` wrote on A.

describe('chorus watch on C sees chorus set on A (three processes)', () => {
  const dirs = [tempDir(), tempDir(), tempDir()];
  const nodes: NodeProc[] = [];
  const watches: WatchProc[] = [];
  afterAll(async () => {
    for (const w of watches) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await Promise.all(nodes.map((n) => killNode(n)));
    cleanup(...dirs);
  });

  it('prints the remote change, written by A, within seconds', async () => {
    const a = await startNode(dirs[0] as string, ['--name', 'a']);
    nodes.push(a);
    const seed = `127.0.0.1:${a.port}`;
    const [b, c] = await Promise.all([startNode(dirs[1] as string, ['--name', 'b', '--seed', seed]), startNode(dirs[2] as string, ['--name', 'c', '--seed', seed])]);
    nodes.push(b, c);
    await eventually('all three see each other alive', async () => {
      for (const n of [a, b, c]) {
        const m = (await http(`${n.url}/api/v1/members`)).body.members as { status: string }[];
        if (m.length !== 3 || m.some((x) => x.status !== 'alive')) return undefined;
      }
      return true;
    });

    const json = startWatch(['--json', '--url', c.url]);
    const human = startWatch(['lamp/', '--url', c.url]);
    watches.push(json, human);
    // Each says on stderr once it is caught up and live.
    for (const w of [json, human]) await eventually('watch connected', async () => (w.stderr().includes('chorus watch: watching') ? true : undefined));

    const set = await runCli(['set', 'lamp/1', 'on=true', '--url', a.url]);
    expect(set.code, set.stderr).toBe(0);

    type ObjectEvent = { kind: string; id: string; set: Record<string, unknown>; origin: string; node: string; seq: number };
    const event = await eventually(
      'the event on C',
      async () => {
        const lines = json.stdout().split('\n').filter((l) => l.length > 0);
        return lines.map((l) => JSON.parse(l) as ObjectEvent).find((e) => e.kind === 'object' && e.id === 'lamp/1');
      },
      10_000,
    );
    expect(event).toMatchObject({ kind: 'object', id: 'lamp/1', set: { on: true }, origin: 'remote', node: a.nodeId });
    expect(Number.isInteger(event.seq)).toBe(true);
    await eventually('the human line on C', async () => (human.stdout().includes(`object  lamp/1  created on=true  (remote from ${a.nodeId})`) ? true : undefined), 10_000);

    // Ctrl-C ends a watch with exit 0.
    for (const w of [json, human]) w.child.kill('SIGINT');
    expect(await json.exited).toBe(0);
    expect(await human.exited).toBe(0);
    for (const n of [a, b, c]) expect(await stopNode(n)).toBe(0);
  });
});
