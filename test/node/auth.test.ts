import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { documentedMetrics, parseMetrics } from '../api/metrics-text.ts';
import { CHORUS, cleanup, eventually, killNode, ROOT, startFails, startNode, tempDir, type NodeProc } from './proc.ts';

// A real `chorus start --api-loopback-open off` with tokens made by the real `chorus token`
// command: REST and the event stream refuse what they must, a revocation takes effect on the
// next request, and /metrics serves every documented metric after real mesh traffic (a
// second node joins through it).

/** Runs `chorus token ...` to completion and returns its stdout; fails the test on a non-zero exit. */
function token(...args: string[]): string {
  const r = spawnSync(process.execPath, [CHORUS, 'token', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`chorus token ${args.join(' ')} exited with ${r.status}:\n${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}

/** Creates a token with the CLI; returns the token text and its id. */
function createToken(data: string, name: string, scope: string): { token: string; id: string } {
  const made = JSON.parse(token('create', '--name', name, '--scope', scope, '--data', data, '--json')) as { token: string; id: string };
  return { token: made.token, id: made.id };
}

/** One HTTP request with an optional bearer token; resolves to status, headers and body text. */
async function call(url: string, opts: { method?: string; token?: string; body?: unknown } = {}): Promise<{ status: number; headers: Headers; text: string }> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method: opts.method ?? 'GET', headers, ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Opens the event stream: the HTTP status of a refused upgrade, or the first message of an accepted one. */
function openEvents(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string } | { message: { kind: string }; ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('message', (data) => resolve({ message: JSON.parse(String(data)) as { kind: string }, ws }));
    ws.on('error', reject);
  });
}

describe('access control of a real node with loopback closed', () => {
  const dirs = [tempDir(), tempDir()];
  let a: NodeProc;
  let b: NodeProc | undefined;
  let read: { token: string; id: string };
  let write: { token: string; id: string };
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    read = createToken(dirs[0]!, 'dashboard', 'read');
    write = createToken(dirs[0]!, 'home-assistant', 'write');
    a = await startNode(dirs[0]!, ['--name', 'a', '--api-loopback-open', 'off']);
  });

  afterAll(async () => {
    for (const ws of sockets) ws.terminate();
    await Promise.all([a, b].filter((n): n is NodeProc => n !== undefined).map((n) => killNode(n)));
    cleanup(...dirs);
  });

  it('REST: no token 401, a read token reads but may not write (403), a write token writes; probes stay public', async () => {
    const objects = `${a.url}/api/v1/objects`;
    const none = await call(objects);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(JSON.parse(none.text).error.code).toBe('CHORUS_UNAUTHORIZED');
    expect((await call(`${objects}/lamp`, { method: 'PATCH', body: { on: true } })).status).toBe(401);
    expect((await call(objects, { token: `chorus_00000000_${'A'.repeat(43)}` })).status).toBe(401);

    expect((await call(objects, { token: read.token })).status).toBe(200);
    const denied = await call(`${objects}/lamp`, { method: 'PATCH', token: read.token, body: { on: true } });
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.text).error).toMatchObject({ code: 'CHORUS_FORBIDDEN' });
    expect(JSON.parse(denied.text).error.message).toContain("'write'");

    expect((await call(`${objects}/lamp`, { method: 'PATCH', token: write.token, body: { on: true } })).status).toBe(200);
    const got = await call(`${objects}/lamp`, { token: read.token });
    expect(JSON.parse(got.text).fields).toEqual({ on: true });

    expect((await call(`${a.url}/healthz`)).status).toBe(200);
  });

  it('a token revoked with the CLI while the node runs is refused on the next request; a new one works at once', async () => {
    const late = createToken(dirs[0]!, 'script', 'write');
    const url = `${a.url}/api/v1/objects/fan`;
    expect((await call(url, { method: 'PATCH', token: late.token, body: { speed: 1 } })).status).toBe(200);
    token('revoke', late.id, '--data', dirs[0]!);
    expect((await call(url, { method: 'PATCH', token: late.token, body: { speed: 2 } })).status).toBe(401);
    expect((await call(url, { token: late.token })).status).toBe(401);
    expect((await call(url, { token: read.token })).status).toBe(200);
  });

  it('event stream: a missing or wrong token gets 401 on upgrade; a read token (query or header) is let in', async () => {
    const events = `ws://127.0.0.1:${a.port}/api/v1/events`;
    for (const [what, url, headers] of [
      ['no token', events, {}],
      ['wrong token', `${events}?token=chorus_00000000_${'A'.repeat(43)}`, {}],
      ['malformed token', `${events}?token=letmein`, {}],
      ['wrong header', events, { authorization: 'Bearer nope' }],
    ] as const) {
      const r = await openEvents(url, headers);
      expect('status' in r ? r.status : 'upgraded', what).toBe(401);
    }
    const byQuery = await openEvents(`${events}?token=${encodeURIComponent(read.token)}`);
    expect('message' in byQuery ? byQuery.message.kind : byQuery.status).toBe('hello');
    if ('ws' in byQuery) sockets.push(byQuery.ws);
    const byHeader = await openEvents(events, { authorization: `Bearer ${read.token}` });
    expect('message' in byHeader ? byHeader.message.kind : byHeader.status).toBe('hello');
    if ('ws' in byHeader) sockets.push(byHeader.ws);
  });

  it('/metrics needs a token, then parses and holds every documented metric after mesh traffic', async () => {
    expect((await call(`${a.url}/metrics`)).status).toBe(401);
    b = await startNode(dirs[1]!, ['--name', 'b', '--seed', `127.0.0.1:${a.port}`]);
    for (let i = 0; i < 5; i++) expect((await call(`${a.url}/api/v1/objects/sensor-${i}`, { method: 'PUT', token: write.token, body: { fields: { t: i } } })).status).toBe(200);
    const documented = documentedMetrics();
    // Replication lag has a series once B's digest reached A; by then the mesh has talked both ways.
    const { types, samples } = await eventually('A reports replication lag for B', async () => {
      const r = await call(`${a.url}/metrics`, { token: read.token });
      expect(r.status).toBe(200);
      const parsed = parseMetrics(r.text);
      return parsed.samples.some((s) => s.name === 'chorus_replication_lag_records' && s.labels.peer === b?.nodeId) ? parsed : undefined;
    });
    for (const [name, type] of documented) expect(types.get(name), name).toBe(type);
    // Every metric has a series, except drops, which have one only after a drop.
    for (const name of documented.keys()) {
      if (name === 'chorus_messages_dropped_total') continue;
      expect(samples.some((s) => s.name === name || s.name.startsWith(`${name}_`)), `${name} has a sample`).toBe(true);
    }
    const sample = (name: string, labels: Record<string, string> = {}): number =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value ?? NaN;
    expect(sample('chorus_members', { status: 'alive' })).toBe(2);
    expect(sample('chorus_messages_total', { direction: 'out' })).toBeGreaterThan(0);
    expect(sample('chorus_messages_total', { direction: 'in' })).toBeGreaterThan(0);
    expect(sample('chorus_bytes_total', { direction: 'in' })).toBeGreaterThan(0);
    expect(sample('chorus_bytes_total', { direction: 'out' })).toBeGreaterThan(0);
    expect(sample('chorus_writes_total', { kind: 'put' })).toBe(5);
    expect(sample('chorus_writes_total', { kind: 'patch' })).toBe(2);
    expect(sample('chorus_store_objects')).toBe(7);
    expect(sample('chorus_storage_commits_total')).toBeGreaterThan(0);
    expect(sample('chorus_event_stream_clients')).toBe(2);
    expect(sample('chorus_frames_rejected_total', { reason: 'auth-failed' })).toBe(0);
    expect(sample('chorus_http_request_duration_seconds_count', { method: 'PATCH', route: '/api/v1/objects/:id', status: '403' })).toBe(1);
    expect(sample('process_cpu_seconds_total')).toBeGreaterThan(0);
  });
});

describe('a damaged token file', () => {
  it('keeps the node from starting (exit 2), naming the file and the problem', async () => {
    const dir = tempDir();
    try {
      writeFileSync(join(dir, 'tokens.json'), '{"version":1,"tokens":[{"id":"x"}]}');
      const r = await startFails(['--data', dir]);
      expect(r.code).toBe(2);
      expect(r.output).toContain('tokens.json');
      expect(r.output).toContain('valid id');
    } finally {
      cleanup(dir);
    }
  });
});
