import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chorusOk, generateKey, type GeneratedKey } from './cli.ts';
import { cleanup, eventually, getObject, http, killNode, sleep, startNode, stopNode, tempDir, type NodeProc } from './proc.ts';

// Real `chorus start` processes on 127.0.0.1 and keys made with the real `chorus key` command.
// A and B share a key and a mesh. C (another key), D (the right key, another mesh) and E
// (--insecure, no key) each try to join through A and must get nowhere.

/** How long an intruder gets to try, in protocol time of `--preset local`. */
const INTRUSION_MS = 3000;

type Member = { nodeId: string; name: string; status: string; generation: number };
type Listed = { id: string; fields: Record<string, unknown> };

async function members(n: NodeProc): Promise<Member[]> {
  return (await http(`${n.url}/api/v1/members`)).body.members as Member[];
}

/** Every object on a node, in id order (the API pages by 1000). */
async function allObjects(n: NodeProc): Promise<Listed[]> {
  const out: Listed[] = [];
  let after: string | null = null;
  do {
    const r = await http(`${n.url}/api/v1/objects?limit=1000${after === null ? '' : `&after=${encodeURIComponent(after)}`}`);
    out.push(...(r.body.objects as Listed[]));
    after = r.body.next as string | null;
  } while (after !== null);
  return out;
}

/** Waits until each node sees exactly the others of `nodes`, all alive. */
async function meshFormed(nodes: readonly NodeProc[]): Promise<void> {
  const ids = nodes.map((n) => n.nodeId).sort();
  await eventually(`${nodes.length} nodes see each other alive`, async () => {
    for (const n of nodes) {
      const m = await members(n);
      if (JSON.stringify(m.map((x) => x.nodeId).sort()) !== JSON.stringify(ids) || m.some((x) => x.status !== 'alive')) return undefined;
    }
    return true;
  });
}

/** The transport refusals A logged (at info level, one JSON line each), by reason. */
function refusalsLogged(n: NodeProc): string[] {
  const out: string[] = [];
  for (const line of n.output().split('\n')) {
    if (!line.includes('"connection refused"')) continue;
    try {
      const j = JSON.parse(line) as { msg?: string; reason?: string };
      if (j.msg === 'connection refused') out.push(j.reason ?? '(no reason)');
    } catch {
      // a line still being written
    }
  }
  return out;
}

/**
 * How many frames of `reason` A's codec refused, as /metrics shows them
 * (`chorus_frames_rejected_total{reason="..."}`), or undefined when no such counter is exposed:
 * then the assertion on it is skipped (this test adds no endpoint).
 */
async function exposedRefusals(n: NodeProc, reason: string): Promise<number | undefined> {
  const res = await fetch(`${n.url}/metrics`).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  for (const line of (await res.text()).split('\n')) {
    const m = /^chorus_frames_rejected_total\{([^}]*)\}\s+(\S+)/.exec(line);
    if (m?.[1]?.split(',').includes(`reason="${reason}"`)) return Number(m[2]);
  }
  return undefined;
}

describe('mesh security between real processes', () => {
  const dirA = tempDir();
  const dirB = tempDir();
  const intruderDirs: string[] = [];
  const procs: NodeProc[] = [];
  let key: GeneratedKey;
  let a: NodeProc;
  let b: NodeProc;

  beforeAll(() => {
    key = generateKey('--data', dirA);
    expect(key).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{8}$/), primary: true, key: expect.any(String) });
    expect(chorusOk('key', 'install', key.key, '--data', dirB)).toBe(key.id);
  });

  afterAll(async () => {
    await Promise.all(procs.map((n) => killNode(n)));
    cleanup(dirA, dirB, ...intruderDirs);
  });

  it('A and B, sharing a key made by `chorus key`, form a mesh and replicate a PUT', async () => {
    a = await startNode(dirA, ['--name', 'a', '--host', '127.0.0.1', '--log-level', 'info']);
    procs.push(a);
    b = await startNode(dirB, ['--name', 'b', '--host', '127.0.0.1', '--seed', `127.0.0.1:${a.port}`]);
    procs.push(b);
    expect((await http(`${a.url}/api/v1/node`)).body.secure).toBe(true);
    await meshFormed([a, b]);
    expect((await http(`${a.url}/api/v1/objects/hall-light`, 'PUT', { fields: { on: true } })).status).toBe(200);
    await eventually('hall-light on B', async () => ((await getObject(b, 'hall-light'))?.on === true ? true : undefined));
    expect((await http(`${b.url}/api/v1/objects/porch-light`, 'PUT', { fields: { on: false } })).status).toBe(200);
    await eventually('porch-light on A', async () => ((await getObject(a, 'porch-light'))?.on === false ? true : undefined));
  });

  const intruders: { name: string; why: string; refusal: string; prepare: (dir: string) => string[] }[] = [
    { name: 'c', why: 'another key', refusal: 'unknown-key', prepare: (dir) => (generateKey('--data', dir), []) },
    { name: 'd', why: 'the right key but --mesh other', refusal: 'wrong-mesh', prepare: (dir) => (chorusOk('key', 'install', key.key, '--data', dir), ['--mesh', 'other']) },
    { name: 'e', why: '--insecure and no key', refusal: 'plaintext-refused', prepare: () => ['--insecure'] },
  ];

  for (const intruder of intruders) {
    it(`${intruder.name.toUpperCase()} with ${intruder.why} never joins through A, and its write never reaches A`, async () => {
      const dir = tempDir();
      intruderDirs.push(dir);
      const extra = intruder.prepare(dir);
      const objectsBefore = await allObjects(a);
      const refusedBefore = refusalsLogged(a).filter((r) => r === intruder.refusal).length;
      const exposedBefore = await exposedRefusals(a, intruder.refusal);

      const x = await startNode(dir, ['--name', intruder.name, '--host', '127.0.0.1', '--seed', `127.0.0.1:${a.port}`, ...extra]);
      procs.push(x);
      expect((await http(`${x.url}/api/v1/objects/intruder-${intruder.name}`, 'PUT', { fields: { by: intruder.name } })).status).toBe(200);

      // For the whole window, A's members are A and B only and the write is nowhere on A.
      const until = Date.now() + INTRUSION_MS;
      while (Date.now() < until) {
        const ids = (await members(a)).map((m) => m.nodeId).sort();
        expect(ids).toEqual([a.nodeId, b.nodeId].sort());
        expect(await getObject(a, `intruder-${intruder.name}`)).toBeUndefined();
        await sleep(100);
      }
      expect(await allObjects(a)).toEqual(objectsBefore);
      // The intruder learned nothing either: it knows only itself and holds only its own write.
      expect((await members(x)).map((m) => m.nodeId)).toEqual([x.nodeId]);
      expect((await allObjects(x)).map((o) => o.id)).toEqual([`intruder-${intruder.name}`]);

      // It did reach A and was refused by A's transport: A logged the refusal with its reason.
      expect(refusalsLogged(a).filter((r) => r === intruder.refusal).length).toBeGreaterThan(refusedBefore);
      const exposedAfter = await exposedRefusals(a, intruder.refusal);
      if (exposedAfter === undefined) console.log(`${intruder.name}: A exposes no chorus_frames_rejected_total{reason="${intruder.refusal}"} on /metrics; counter assertion skipped (the refusal is checked in A's log)`);
      else expect(exposedAfter).toBeGreaterThan(exposedBefore ?? 0);

      expect(await stopNode(x)).toBe(0);
    });
  }

  it('after `key install` + `key use` of a second key on both keyrings and a restart of both, A and B still form a mesh', async () => {
    expect(await stopNode(b)).toBe(0);
    expect(await stopNode(a)).toBe(0);
    const second = generateKey('--data', dirA);
    expect(second.primary).toBe(false);
    expect(chorusOk('key', 'install', second.key, '--data', dirB)).toBe(second.id);
    for (const dir of [dirA, dirB]) {
      expect(chorusOk('key', 'use', second.id, '--data', dir)).toBe(`primary: ${second.id}`);
      const listed = JSON.parse(chorusOk('key', 'list', '--data', dir, '--json')) as { id: string; primary: boolean }[];
      expect(listed.map((k) => [k.id, k.primary])).toEqual([
        [key.id, false],
        [second.id, true],
      ]);
    }

    const a2 = await startNode(dirA, ['--name', 'a', '--host', '127.0.0.1']);
    procs.push(a2);
    const b2 = await startNode(dirB, ['--name', 'b', '--host', '127.0.0.1', '--seed', `127.0.0.1:${a2.port}`]);
    procs.push(b2);
    expect([a2.nodeId, b2.nodeId]).toEqual([a.nodeId, b.nodeId]);
    await meshFormed([a2, b2]);
    expect((await http(`${b2.url}/api/v1/objects/after-rotation`, 'PUT', { fields: { ok: true } })).status).toBe(200);
    await eventually('after-rotation on A', async () => ((await getObject(a2, 'after-rotation'))?.ok === true ? true : undefined));
    // What they held before the rotation is still there; no intruder's write ever arrived.
    expect(await getObject(a2, 'porch-light')).toEqual({ on: false });
    expect((await allObjects(a2)).map((o) => o.id)).toEqual(['after-rotation', 'hall-light', 'porch-light']);
  });
});
