import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError, ExitCode, exitCodeForStatus } from '../../src/cli/client/exit-codes.ts';
import { NodeClient } from '../../src/cli/client/node-client.ts';
import { resolveTarget } from '../../src/cli/client/target.ts';

/** One request as the fake node saw it. */
interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

/** A fake node: routes answer with a status and a body; every request is recorded. */
let server: Server;
let base: string;
const seen: Seen[] = [];
const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const route = routes.get(`${req.method} ${path}`);
      if (route === undefined) json(res, 404, { error: { code: 'CHORUS_NOT_FOUND', message: `no route ${req.method} ${path}` } });
      else route(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function client(token?: string): NodeClient {
  return new NodeClient({ url: base, token, from: '--url' });
}

async function failure(p: Promise<unknown>): Promise<CliError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CliError) return e;
    throw e;
  }
  throw new Error('expected a CliError');
}

describe('exit codes', () => {
  it.each([
    [401, false, ExitCode.Unauthorized],
    [403, false, ExitCode.Unauthorized],
    [400, false, ExitCode.Usage],
    [413, false, ExitCode.Usage],
    [415, false, ExitCode.Usage],
    [404, true, ExitCode.NotFound],
    [404, false, ExitCode.Failure],
    [409, false, ExitCode.Failure],
    [429, false, ExitCode.Failure],
    [500, false, ExitCode.Failure],
    [503, false, ExitCode.Failure],
    [504, false, ExitCode.Failure],
  ])('HTTP %d (404 means missing: %s) exits %d', (status, missing, code) => {
    expect(exitCodeForStatus(status, missing)).toBe(code);
  });

  it('maps each answer of the node to the exit code and the API error message', async () => {
    for (const [status, code] of [
      [401, ExitCode.Unauthorized],
      [403, ExitCode.Unauthorized],
      [400, ExitCode.Usage],
      [409, ExitCode.Failure],
      [500, ExitCode.Failure],
      [504, ExitCode.Failure],
    ] as const) {
      routes.set('GET /api/v1/members', (_req, res) => json(res, status, { error: { code: `CODE_${status}`, message: `said ${status}` } }));
      const e = await failure(client().members());
      expect(e.exitCode, String(status)).toBe(code);
      expect(e.message).toBe(`GET /api/v1/members: said ${status} (CODE_${status})`);
    }
    routes.set('GET /api/v1/members', (_req, res) => res.writeHead(502).end('<html>bad gateway</html>'));
    expect(await failure(client().members())).toMatchObject({ exitCode: ExitCode.Failure, message: 'GET /api/v1/members: HTTP 502 Bad Gateway' });
    routes.set('GET /api/v1/members', (_req, res) => res.writeHead(200).end('not json'));
    expect((await failure(client().members())).message).toMatch(/not JSON: is .* a Chorus node/);
  });

  it('a missing object is exit 3; a missing route is exit 1', async () => {
    expect(await failure(client().getObject('kitchen/light'))).toMatchObject({ exitCode: ExitCode.NotFound, message: 'object "kitchen/light" not found' });
    expect(await failure(client().deleteObject('kitchen/light'))).toMatchObject({ exitCode: ExitCode.NotFound });
    routes.delete('GET /api/v1/members');
    expect((await failure(client().members())).exitCode).toBe(ExitCode.Failure);
  });

  it('a node that cannot be reached, or does not answer in time, is exit 4', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const e = await failure(new NodeClient({ url: `http://127.0.0.1:${port}`, token: undefined, from: '/data/node.json' }).node());
    expect(e.exitCode).toBe(ExitCode.Unreachable);
    expect(e.message).toBe(`cannot reach the node at http://127.0.0.1:${port} (from /data/node.json; is the node running?): ECONNREFUSED`);
    routes.set('GET /slow', () => undefined); // never answers
    const slow = await failure(client().request('GET', '/slow', { timeoutMs: 100 }));
    expect(slow).toMatchObject({ exitCode: ExitCode.Unreachable, message: `cannot reach the node at ${base}: no answer in time` });
  });
});

describe('requests', () => {
  it('sends the token as a Bearer header, and none without one', async () => {
    routes.set('GET /api/v1/node', (_req, res) => json(res, 200, { nodeId: 'n' }));
    seen.length = 0;
    await client('chorus_abc_secret').node();
    await client().node();
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer chorus_abc_secret', undefined]);
  });

  it('set is a PATCH of the fields, --replace a PUT of { fields }, with the write concern in the query', async () => {
    routes.set('PATCH /api/v1/objects/kitchen%2Flight', (_req, res) => json(res, 200, { id: 'kitchen/light', fields: {} }));
    routes.set('PUT /api/v1/objects/kitchen%2Flight', (_req, res) => json(res, 200, { id: 'kitchen/light', fields: {} }));
    routes.set('DELETE /api/v1/objects/kitchen%2Flight', (_req, res) => json(res, 200, { id: 'kitchen/light', deleted: true }));
    seen.length = 0;
    await client().writeObject('kitchen/light', { on: true }, false);
    await client().writeObject('kitchen/light', { on: true }, true, { replicas: 'all', timeoutMs: 2000 });
    await client().deleteObject('kitchen/light', { replicas: 2 });
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['PATCH', '/api/v1/objects/kitchen%2Flight', '{"on":true}'],
      ['PUT', '/api/v1/objects/kitchen%2Flight?replicas=all&timeoutMs=2000', '{"fields":{"on":true}}'],
      ['DELETE', '/api/v1/objects/kitchen%2Flight?replicas=2', ''],
    ]);
  });

  it('ls follows next page by page, up to the limit', async () => {
    const ids = Array.from({ length: 2500 }, (_, i) => `obj/${String(i).padStart(5, '0')}`);
    routes.set('GET /api/v1/objects', (req, res) => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      const after = q.get('after');
      const limit = Number(q.get('limit'));
      const from = after === null ? 0 : ids.indexOf(after) + 1;
      const page = ids.filter((id) => id.startsWith(q.get('prefix') ?? '')).slice(from, from + limit);
      const more = from + limit < ids.length;
      json(res, 200, { objects: page.map((id) => ({ id, fields: {} })), next: more ? page.at(-1) : null });
    });
    seen.length = 0;
    const all = await client().listAll('');
    expect(all.map((o) => o.id)).toEqual(ids);
    expect(seen.map((s) => s.url)).toEqual(['/api/v1/objects?limit=1000', '/api/v1/objects?after=obj%2F00999&limit=1000', '/api/v1/objects?after=obj%2F01999&limit=1000']);
    expect((await client().listAll('', 1500)).length).toBe(1500);
    routes.set('GET /api/v1/objects', (_req, res) => json(res, 200, { objects: [{ id: 'a', fields: {} }], next: 'a' }));
    expect((await failure(client().listAll(''))).message).toMatch(/paging does not advance/);
  });

  it('replication: the list, or null from a node that does not serve it', async () => {
    routes.delete('GET /api/v1/replication');
    expect(await client().replication()).toBeNull();
    routes.set('GET /api/v1/replication', (_req, res) => json(res, 200, { peers: [{ nodeId: 'p' }] }));
    expect(await client().replication()).toEqual([{ nodeId: 'p' }]);
    routes.set('GET /api/v1/replication', (_req, res) => json(res, 200, [{ nodeId: 'q' }]));
    expect(await client().replication()).toEqual([{ nodeId: 'q' }]);
  });
});

describe('choosing the node and the token', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chorus-cli-target-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function code(f: () => unknown): number | undefined {
    try {
      f();
    } catch (e) {
      return e instanceof CliError ? e.exitCode : undefined;
    }
    return undefined;
  }

  it('--url wins when valid; otherwise --data DIR/node.json; the token from --token or $CHORUS_TOKEN', () => {
    expect(resolveTarget({ url: 'http://127.0.0.1:7946/' }, {})).toEqual({ url: 'http://127.0.0.1:7946', token: undefined, from: '--url' });
    writeFileSync(join(dir, 'node.json'), JSON.stringify({ url: 'http://127.0.0.1:5555', pid: 1 }));
    expect(resolveTarget({ data: dir }, { CHORUS_TOKEN: 'env-token' })).toEqual({ url: 'http://127.0.0.1:5555', token: 'env-token', from: join(dir, 'node.json') });
    expect(resolveTarget({ data: dir, token: 'flag' }, { CHORUS_TOKEN: 'env-token' }).token).toBe('flag');
    expect(resolveTarget({ data: dir }, { CHORUS_TOKEN: '' }).token).toBeUndefined();
    // $CHORUS_DATA (as `chorus start` reads it) stands in for --data; --url and --data win over it.
    expect(resolveTarget({}, { CHORUS_DATA: dir }).url).toBe('http://127.0.0.1:5555');
    expect(resolveTarget({ url: 'http://h:1' }, { CHORUS_DATA: dir }).url).toBe('http://h:1');
    expect(() => resolveTarget({ data: join(dir, 'elsewhere') }, { CHORUS_DATA: dir })).toThrow(/elsewhere/);
  });

  it('bad choices: both (2), not a URL (2), not http (2), no node.json (4)', () => {
    expect(code(() => resolveTarget({ url: 'http://x:1', data: dir }, {}))).toBe(ExitCode.Usage);
    expect(code(() => resolveTarget({ url: 'localhost:7946x' }, {}))).toBe(ExitCode.Usage);
    expect(code(() => resolveTarget({ url: 'ftp://host' }, {}))).toBe(ExitCode.Usage);
    expect(code(() => resolveTarget({ url: 'http://host/?q=1' }, {}))).toBe(ExitCode.Usage);
    expect(code(() => resolveTarget({ data: join(dir, 'nothing-here') }, {}))).toBe(ExitCode.Unreachable);
    writeFileSync(join(dir, 'node.json'), '{ broken');
    expect(code(() => resolveTarget({ data: dir }, {}))).toBe(ExitCode.Failure);
  });
});
