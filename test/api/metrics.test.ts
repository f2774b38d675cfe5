import Fastify, { type FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerAuth } from '../../src/api/auth.ts';
import { MonotonicSum, registerMetrics, type MetricsSource } from '../../src/api/metrics.ts';
import { createToken, TOKEN_FILE, TokenStore } from '../../src/api/tokens.ts';
import { documentedMetrics, parseMetrics, type Sample } from './metrics-text.ts';

// /metrics on a tiny app over a fake source: the text parses, every metric docs/metrics.md
// lists is there with its documented type, values come from the source, and two nodes in
// one process keep separate registries.

/** The value of one sample, or undefined. */
function value(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

class FakeNode implements MetricsSource {
  counters: Record<string, number> = { 'sent:PING': 3, 'received:PING_ACK': 2, 'sent:PUSH': 5, 'dropped:malformed': 1, recordsApplied: 40, syncRounds: 9 };
  linkBytes: Record<string, { bytesIn: number; bytesOut: number }> = { 'a:1': { bytesIn: 100, bytesOut: 10 }, 'b:2': { bytesIn: 50, bytesOut: 5 } };
  statuses = ['alive', 'alive', 'suspect'];
  engineCounters = (): Record<string, number> => this.counters;
  links = (): Record<string, { bytesIn: number; bytesOut: number }> => this.linkBytes;
  framesRejected = (): Record<string, number> => ({ 'auth-failed': 4, replay: 0 });
  memberStatuses = (): string[] => this.statuses;
  replicationLag = (): { peer: string; records: number | null }[] => [{ peer: 'b'.repeat(32), records: 7 }, { peer: 'c'.repeat(32), records: null }];
  writes = (): Record<string, number> => ({ put: 2, patch: 6 });
  store = (): { objects: number; liveFields: number; tombstones: number; encodedBytes: number } => ({ objects: 11, liveFields: 30, tombstones: 4, encodedBytes: 999 });
  commits = (): { commits: number; failedCommits: number } => ({ commits: 12, failedCommits: 0 });
  eventClients = (): number => 2;
}

function app(source: () => MetricsSource | undefined): FastifyInstance {
  const a = Fastify();
  a.get('/api/v1/objects/:id', async () => ({ ok: true }));
  registerMetrics(a, source);
  return a;
}

async function scrape(a: FastifyInstance): Promise<{ types: Map<string, string>; samples: Sample[] }> {
  const res = await a.inject({ url: '/metrics', remoteAddress: '127.0.0.1' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(res.body);
}

describe('/metrics', () => {
  it('serves every documented metric with its documented type, plus default process metrics', async () => {
    const documented = documentedMetrics();
    expect(documented.size).toBeGreaterThanOrEqual(16);
    const a = app(() => new FakeNode());
    await a.inject({ url: '/api/v1/objects/lamp' });
    const { types, samples } = await scrape(a);
    for (const [name, type] of documented) {
      expect(types.get(name), name).toBe(type);
      expect(samples.some((s) => s.name === name || s.name.startsWith(`${name}_`)), `${name} has samples`).toBe(true);
    }
    // Nothing served under chorus_ that the document does not describe.
    for (const name of types.keys()) if (name.startsWith('chorus_')) expect(documented.has(name), `${name} is documented`).toBe(true);
    expect(types.get('process_cpu_seconds_total')).toBe('counter');
    expect(types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
  });

  it('reads values from the node: messages, bytes, members, lag, writes, store, commits', async () => {
    const node = new FakeNode();
    const { samples } = await scrape(app(() => node));
    expect(value(samples, 'chorus_messages_total', { direction: 'out', type: 'PING' })).toBe(3);
    expect(value(samples, 'chorus_messages_total', { direction: 'out', type: 'PUSH' })).toBe(5);
    expect(value(samples, 'chorus_messages_total', { direction: 'in', type: 'PING_ACK' })).toBe(2);
    expect(value(samples, 'chorus_messages_dropped_total', { reason: 'malformed' })).toBe(1);
    expect(value(samples, 'chorus_bytes_total', { direction: 'in' })).toBe(150);
    expect(value(samples, 'chorus_bytes_total', { direction: 'out' })).toBe(15);
    expect(value(samples, 'chorus_frames_rejected_total', { reason: 'auth-failed' })).toBe(4);
    expect(value(samples, 'chorus_members', { status: 'alive' })).toBe(2);
    expect(value(samples, 'chorus_members', { status: 'suspect' })).toBe(1);
    expect(value(samples, 'chorus_members', { status: 'dead' })).toBe(0);
    expect(value(samples, 'chorus_replication_lag_records', { peer: 'b'.repeat(32) })).toBe(7);
    expect(value(samples, 'chorus_replication_lag_records', { peer: 'c'.repeat(32) })).toBeUndefined();
    expect(value(samples, 'chorus_writes_total', { kind: 'patch' })).toBe(6);
    expect(value(samples, 'chorus_merged_records_total')).toBe(40);
    expect(value(samples, 'chorus_store_objects')).toBe(11);
    expect(value(samples, 'chorus_store_live_fields')).toBe(30);
    expect(value(samples, 'chorus_store_tombstones')).toBe(4);
    expect(value(samples, 'chorus_storage_commits_total')).toBe(12);
    expect(value(samples, 'chorus_event_stream_clients')).toBe(2);
  });

  it('follows the node between scrapes; byte totals never go down when a link is forgotten', async () => {
    const node = new FakeNode();
    const a = app(() => node);
    await scrape(a);
    node.counters = { ...node.counters, 'sent:PING': 10 };
    node.statuses = ['alive'];
    node.linkBytes = { 'b:2': { bytesIn: 60, bytesOut: 6 } }; // a:1 closed and was forgotten
    const { samples } = await scrape(a);
    expect(value(samples, 'chorus_messages_total', { direction: 'out', type: 'PING' })).toBe(10);
    expect(value(samples, 'chorus_members', { status: 'suspect' })).toBe(0);
    expect(value(samples, 'chorus_bytes_total', { direction: 'in' })).toBe(160);
    expect(value(samples, 'chorus_bytes_total', { direction: 'out' })).toBe(16);
  });

  it('labels latency by route pattern, never by raw URL', async () => {
    const a = app(() => undefined);
    for (const id of ['lamp', 'fan', 'door']) await a.inject({ url: `/api/v1/objects/${id}` });
    await a.inject({ url: '/nope/123' });
    const { samples } = await scrape(a);
    const routes = new Set(samples.filter((s) => s.name === 'chorus_http_request_duration_seconds_count').map((s) => `${s.labels.method} ${s.labels.route} ${s.labels.status}`));
    expect(routes).toContain('GET /api/v1/objects/:id 200');
    expect(routes).toContain('GET unmatched 404');
    expect(value(samples, 'chorus_http_request_duration_seconds_count', { route: '/api/v1/objects/:id' })).toBe(3);
    expect(samples.some((s) => JSON.stringify(s.labels).includes('lamp'))).toBe(false);
  });

  it('works before the node exists (node metrics empty) and keeps registries apart per node', async () => {
    const early = await scrape(app(() => undefined));
    expect(value(early.samples, 'chorus_store_objects')).toBe(0);
    expect(value(early.samples, 'chorus_members', { status: 'alive' })).toBeUndefined();
    expect(early.types.get('chorus_store_objects')).toBe('gauge');
    const one = new FakeNode();
    const two = new FakeNode();
    two.store = () => ({ objects: 99, liveFields: 0, tombstones: 0, encodedBytes: 0 });
    const [a, b] = [app(() => one), app(() => two)];
    expect(value((await scrape(a)).samples, 'chorus_store_objects')).toBe(11);
    expect(value((await scrape(b)).samples, 'chorus_store_objects')).toBe(99);
  });

  it('needs a read token unless loopback is open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-metrics-'));
    try {
      const file = join(dir, TOKEN_FILE);
      const { token } = createToken(file, { name: 'prometheus', scopes: ['read'] });
      const a = Fastify();
      registerMetrics(a, () => new FakeNode());
      registerAuth(a, { tokens: TokenStore.open(file), loopbackOpen: true });
      expect((await a.inject({ url: '/metrics', remoteAddress: '10.0.0.9' })).statusCode).toBe(401);
      expect((await a.inject({ url: '/metrics', remoteAddress: '10.0.0.9', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
      expect((await a.inject({ url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('MonotonicSum', () => {
  it('retires parts that vanish or restart, so the total never goes down', () => {
    const s = new MonotonicSum();
    const steps: [Record<string, number>, number][] = [
      [{}, 0],
      [{ a: 10 }, 10],
      [{ a: 15, b: 5 }, 20],
      [{ b: 7 }, 22], // a forgotten: its 15 stays counted
      [{ b: 2 }, 24], // b replaced by a new link from zero: 7 retired, 2 new
      [{ a: 1, b: 3 }, 26],
      [{}, 26],
    ];
    for (const [parts, total] of steps) expect(s.observe(parts), JSON.stringify(parts)).toBe(total);
  });
});
