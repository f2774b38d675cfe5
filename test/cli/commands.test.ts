import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, eventually, http, startNode, stopNode, tempDir, type NodeProc } from '../node/proc.ts';
import { cliJson, runCli, startWatch } from './helpers.ts';

// The real `chorus` command (node bin/chorus.js) against a real `chorus start` node. Tests use
// their own object ids, so they run concurrently (each command is a process of its own).

let node: NodeProc;
let dir: string;
let closedUrl: string;

beforeAll(async () => {
  dir = tempDir('chorus-cli-');
  // The bulk writes below would trip the per-client rate limit (where the node has one).
  node = await startNode(join(dir, 'n1'), [], { CHORUS_API_RATE_LIMIT: '0' });
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  closedUrl = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  await new Promise((resolve) => s.close(resolve));
});

afterAll(async () => {
  if (node !== undefined) await stopNode(node);
  cleanup(dir);
});

const at = (): string[] => ['--url', node.url];

describe.concurrent('chorus get / set / rm', () => {
  it('set parses FIELD=VALUE (JSON when it parses, else a string) and get shows the object', async () => {
    const written = await cliJson(['set', 'kitchen/light', 'on=true', 'level=80', 'location={"x":1}', 'name=kitchen', 'note=', 'eq=a=b', ...at()]);
    const fields = { on: true, level: 80, location: { x: 1 }, name: 'kitchen', note: '', eq: 'a=b' };
    expect(written).toEqual({ id: 'kitchen/light', fields });
    expect(await cliJson(['get', 'kitchen/light', ...at()])).toEqual({ id: 'kitchen/light', fields });
    expect((await http(`${node.url}/api/v1/objects/kitchen%2Flight`)).body.fields).toEqual(fields);
  });

  it('without --json, off a terminal: one tab-separated line per field, values as JSON', async () => {
    await cliJson(['set', 'hall/lamp', 'on=false', 'name=hall', ...at()]);
    const r = await runCli(['get', 'hall/lamp', ...at()]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.trimEnd().split('\n').sort()).toEqual(['name\t"hall"', 'on\tfalse']);
  });

  it('set merges (PATCH); --replace replaces the whole object (PUT)', async () => {
    await cliJson(['set', 'merge/me', 'a=1', 'b=2', ...at()]);
    expect(await cliJson(['set', 'merge/me', 'b=3', ...at()])).toEqual({ id: 'merge/me', fields: { a: 1, b: 3 } });
    expect(await cliJson(['set', 'merge/me', 'c=4', '--replace', ...at()])).toEqual({ id: 'merge/me', fields: { c: 4 } });
  });

  it('rm deletes; get and rm of a missing object exit 3', async () => {
    await cliJson(['set', 'gone/soon', 'x=1', ...at()]);
    const rm = await runCli(['rm', 'gone/soon', ...at()]);
    expect(rm).toMatchObject({ code: 0, stdout: 'removed gone/soon\n' });
    const [get, getJson, rmAgain] = await Promise.all([runCli(['get', 'gone/soon', ...at()]), runCli(['get', 'gone/soon', '--json', ...at()]), runCli(['rm', 'gone/soon', ...at()])]);
    expect(get).toMatchObject({ code: 3, stdout: '', stderr: 'chorus get: object "gone/soon" not found\n' });
    expect(getJson).toMatchObject({ code: 3, stdout: '' });
    expect(rmAgain).toMatchObject({ code: 3, stderr: 'chorus rm: object "gone/soon" not found\n' });
    await cliJson(['set', 'gone/json', 'x=1', ...at()]);
    expect(await cliJson(['rm', 'gone/json', ...at()])).toEqual({ id: 'gone/json', deleted: true });
  });

  it('finds the node through --data DIR (its node.json)', async () => {
    await cliJson(['set', 'via/data', 'v=1', '--data', node.data]);
    expect(await cliJson(['get', 'via/data', '--data', node.data])).toEqual({ id: 'via/data', fields: { v: 1 } });
  });
});

describe.concurrent('chorus ls / status / members', () => {
  it('ls pages through every object (more than one page), with a prefix and a limit', async () => {
    const ids = Array.from({ length: 1050 }, (_, i) => `page/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < ids.length; i += 50) {
      const writes = await Promise.all(ids.slice(i, i + 50).map((id) => http(`${node.url}/api/v1/objects/${encodeURIComponent(id)}`, 'PATCH', { n: 1 })));
      expect(writes.map((w) => w.status)).toEqual(writes.map(() => 200));
    }
    const all = await cliJson<{ objects: { id: string; fields: unknown }[] }>(['ls', 'page/', ...at()]);
    expect(all.objects.map((o) => o.id)).toEqual(ids);
    const five = await runCli(['ls', 'page/', '--limit', '5', ...at()]);
    expect(five.code).toBe(0);
    expect(five.stdout.trimEnd().split('\n')).toEqual(ids.slice(0, 5).map((id) => `${id}\t{"n":1}`));
    const none = await runCli(['ls', 'nothing/', ...at()]);
    expect(none).toMatchObject({ code: 0, stdout: '' });
  });

  it('status: the node as JSON, or key/value lines', async () => {
    const s = await cliJson<{ node: { nodeId: string; generation: number; url: string }; replication: unknown }>(['status', ...at()]);
    expect(s.node).toMatchObject({ nodeId: node.nodeId, generation: node.generation });
    expect(s.replication === null || Array.isArray(s.replication)).toBe(true);
    const r = await runCli(['status', ...at()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`node\t${node.nodeId} (`);
    expect(r.stdout).toMatch(/^peers\t0$/m);
  });

  it('members: this node, alive', async () => {
    const m = await cliJson<{ members: { nodeId: string; status: string }[] }>(['members', ...at()]);
    expect(m.members).toEqual([expect.objectContaining({ nodeId: node.nodeId, status: 'alive' })]);
    const r = await runCli(['members', ...at()]);
    expect(r.stdout).toMatch(new RegExp(`^${node.nodeId}\\t[^\\t]+\\talive\\t127\\.0\\.0\\.1:${node.port}\\t${node.generation}\\t\\d+\\n$`));
  });
});

describe('tokens (a node that wants one, also from loopback)', () => {
  let locked: NodeProc;
  beforeAll(async () => {
    locked = await startNode(join(dir, 'locked'), [], { CHORUS_API_LOOPBACK_OPEN: 'off' });
  });
  afterAll(async () => {
    if (locked !== undefined) await stopNode(locked);
  });

  function createToken(scope: string): Promise<{ token: string }> {
    return cliJson<{ token: string }>(['token', 'create', '--data', locked.data, '--scope', scope, '--name', `cli-${scope}`]);
  }

  it('5 without a token, with a wrong one, or with one lacking the scope; --token and $CHORUS_TOKEN both work', async () => {
    const [read, write] = await Promise.all([createToken('read'), createToken('write')]);
    const url = ['--url', locked.url];
    const runs = await Promise.all([
      runCli(['get', 'any', ...url]),
      runCli(['status', ...url, '--token', 'chorus_00000000_wrong']),
      runCli(['set', 'tok/a', 'x=1', ...url, '--token', read.token]),
      runCli(['watch', ...url, '--token', 'chorus_00000000_wrong']),
    ]);
    expect(runs.map((r) => r.code)).toEqual([5, 5, 5, 5]);
    expect(runs[2]?.stderr).toMatch(/^chorus set: PATCH \/api\/v1\/objects\/tok%2Fa: .*scope 'write'/);
    expect(await cliJson(['set', 'tok/a', 'x=1', ...url], { CHORUS_TOKEN: write.token })).toEqual({ id: 'tok/a', fields: { x: 1 } });
    expect(await cliJson(['get', 'tok/a', ...url, '--token', read.token])).toEqual({ id: 'tok/a', fields: { x: 1 } });
    expect((await runCli(['get', 'tok/missing', ...url, '--token', read.token])).code).toBe(3);
    // The event stream takes the token too (`?token=` and the header).
    const w = startWatch(url, { CHORUS_TOKEN: read.token });
    await eventually('watch connected with the token', async () => (w.stderr().includes('chorus watch: watching') ? true : undefined));
    w.child.kill('SIGINT');
    expect(await w.exited).toBe(0);
  });
});

describe.concurrent('exit codes', () => {
  it('2 for bad usage, with the reason on stderr; nothing is written', async () => {
    const runs = await Promise.all([
      runCli(['set', 'u/x', 'novalue', ...at()]),
      runCli(['set', 'u/x', ...at()]),
      runCli(['set', 'u/x', 'a=1', 'a=2', ...at()]),
      runCli(['set', 'u/x', 'a=1', '--timeout-ms', '100', ...at()]),
      runCli(['set', 'u/x', 'a=1', '--replicas', 'some', ...at()]),
      runCli(['get', ...at()]),
      runCli(['get', '', ...at()]),
      runCli(['get', 'u/x', '--url', 'not a url']),
      runCli(['get', 'u/x', '--url', node.url, '--data', node.data]),
      runCli(['watch', '--kinds', 'gossip', ...at()]),
      runCli(['frobnicate']),
      runCli(['set', 'x'.repeat(300), 'a=1', ...at()]), // the node rejects the id (400)
    ]);
    expect(runs.map((r) => r.code)).toEqual(runs.map(() => 2));
    expect(runs[0]?.stderr).toBe('chorus set: "novalue" is not FIELD=VALUE (see `chorus help set`)\n');
    expect(runs[11]?.stderr).toMatch(/^chorus set: PATCH \/api\/v1\/objects\/x+: .*256/);
    expect((await http(`${node.url}/api/v1/objects/u%2Fx`)).status).toBe(404);
  });

  it('4 when the node cannot be reached, for every command', async () => {
    const runs = await Promise.all([
      runCli(['status', '--url', closedUrl]),
      runCli(['members', '--url', closedUrl, '--json']),
      runCli(['get', 'a', '--url', closedUrl]),
      runCli(['set', 'a', 'b=1', '--url', closedUrl]),
      runCli(['rm', 'a', '--url', closedUrl]),
      runCli(['ls', '--url', closedUrl]),
      runCli(['watch', '--url', closedUrl]),
      runCli(['get', 'a', '--data', join(dir, 'no-node-here')]),
    ]);
    expect(runs.map((r) => r.code)).toEqual(runs.map(() => 4));
    expect(runs[2]?.stderr).toBe(`chorus get: cannot reach the node at ${closedUrl}: ECONNREFUSED\n`);
    expect(runs[7]?.stderr).toMatch(/no .*node\.json: no node has run with --data/);
  });

  it('chorus help lists every command and the exit codes; chorus help <command> shows examples', async () => {
    const help = await runCli(['help']);
    expect(help.code).toBe(0);
    for (const cmd of ['status', 'members', 'get', 'set', 'rm', 'ls', 'watch']) expect(help.stdout).toMatch(new RegExp(`^  ${cmd} `, 'm'));
    expect(help.stdout).toContain('Exit codes (status, members, get, set, rm, ls, watch):');
    for (const line of ['0  ok', '1  runtime or server error', '2  usage error', '3  not found', '4  cannot reach the node', '5  unauthorized or forbidden']) expect(help.stdout).toContain(line);
    const each = await Promise.all(['status', 'members', 'get', 'set', 'rm', 'ls', 'watch'].map((cmd) => runCli(['help', cmd])));
    for (const [i, r] of each.entries()) {
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Examples:\n  $ chorus ');
      expect(r.stdout).toContain('Exit codes: ');
      expect(r.stdout, String(i)).toContain('--url <url>');
    }
  });
});
