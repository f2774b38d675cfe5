import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EventHub, parseSubscription, type EventAuthorizer, type EventHubOptions, type LiveEventBody, type StreamMessage } from '../../src/api/events.ts';

// Real sockets: an http server on 127.0.0.1:0 with a hub attached; events are published directly.

interface Harness {
  readonly hub: EventHub;
  readonly server: Server;
  /** ws://127.0.0.1:port/api/v1/events */
  readonly url: string;
}

const open: Harness[] = [];
const clients: TestClient[] = [];

async function startHub(opts: Partial<EventHubOptions> = {}, authorize?: EventAuthorizer): Promise<Harness> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  const hub = new EventHub({ pingIntervalMs: 0, ...opts });
  hub.attach(server, authorize);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const h = { hub, server, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/events` };
  open.push(h);
  return h;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const h of open.splice(0)) {
    h.hub.close();
    h.server.closeAllConnections();
    await new Promise((resolve) => h.server.close(resolve));
  }
});

/** A stream client that records every message. */
class TestClient {
  readonly messages: StreamMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private wake: (() => void) | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      this.messages.push(JSON.parse(data.toString()) as StreamMessage);
      this.wake?.();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async connect(url: string, query: Record<string, string> = {}): Promise<TestClient> {
    const u = new URL(url);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    const ws = new WebSocket(u, { perMessageDeflate: false });
    const c = new TestClient(ws);
    clients.push(c);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return c;
  }

  /** Waits until `n` messages arrived (the socket test's own timeout bounds the wait). */
  async take(n: number): Promise<StreamMessage[]> {
    while (this.messages.length < n) await new Promise<void>((resolve) => (this.wake = resolve));
    return this.messages.slice(0, n);
  }

  /** Waits for the hello, and returns everything up to and including it. */
  async untilHello(): Promise<StreamMessage[]> {
    for (;;) {
      const i = this.messages.findIndex((m) => m.kind === 'hello');
      if (i >= 0) return this.messages.slice(0, i + 1);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

/** Opens the stream expecting a refusal; resolves to the HTTP status and error body. */
function refused(url: string, query: Record<string, string>): Promise<{ status: number; body: { error: { code: string; message: string } } }> {
  const u = new URL(url);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(u);
    ws.on('open', () => reject(new Error('the upgrade was accepted')));
    ws.on('error', reject);
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { error: { code: string; message: string } } }));
    });
  });
}

function objectEvent(id: string, set: Record<string, string | number | boolean> = { on: true }): LiveEventBody {
  return { kind: 'object', id, set, removed: [], created: false, deleted: false, origin: 'local', node: 'a'.repeat(32), ts: { ms: 1, lc: 0 }, at: 1 } as LiveEventBody;
}

function memberEvent(name: string): LiveEventBody {
  return { kind: 'member', nodeId: 'b'.repeat(32), name, previous: 'alive', status: 'suspect', at: 1 };
}

const seqs = (ms: readonly StreamMessage[]): (number | string)[] => ms.map((m) => ('seq' in m ? m.seq : m.kind));

describe('event stream: joining and filters', () => {
  it('greets with hello (latest seq and epoch), then sends live events numbered in order', async () => {
    const { hub, url } = await startHub({ epoch: 'run-1' });
    hub.publish(objectEvent('a/1'));
    const c = await TestClient.connect(url);
    expect(await c.take(1)).toEqual([{ kind: 'hello', latest: 1, epoch: 'run-1' }]);
    hub.publish(objectEvent('a/2'));
    hub.publish(memberEvent('n2'));
    expect(seqs(await c.take(3))).toEqual(['hello', 2, 3]);
    expect(hub.clientCount).toBe(1);
  });

  it('filters by object-id prefix and by kind', async () => {
    const { hub, url } = await startHub();
    const kitchen = await TestClient.connect(url, { prefix: 'kitchen/', kinds: 'object' });
    const members = await TestClient.connect(url, { kinds: 'member' });
    const both = await TestClient.connect(url, { prefix: 'hall/', kinds: 'object,member' });
    const all = await TestClient.connect(url);
    await Promise.all([kitchen, members, both, all].map((c) => c.take(1)));
    hub.publish(objectEvent('kitchen/light')); // 1
    hub.publish(objectEvent('hall/door')); // 2
    hub.publish(memberEvent('n2')); // 3
    hub.publish({ kind: 'binding', key: 'mqtt', status: 'up', at: 1 }); // 4
    hub.publish(objectEvent('kitchen/oven')); // 5
    hub.publish(objectEvent('kitchenette')); // 6: not under "kitchen/"
    expect(seqs(await kitchen.take(3))).toEqual(['hello', 1, 5]);
    expect(seqs(await members.take(2))).toEqual(['hello', 3]);
    expect(seqs(await both.take(3))).toEqual(['hello', 2, 3]);
    expect(seqs(await all.take(7))).toEqual(['hello', 1, 2, 3, 4, 5, 6]);
    // Nothing else arrives for the filtered ones: a later matching event is the next message.
    hub.publish(objectEvent('kitchen/sink')); // 7
    hub.publish(memberEvent('n3')); // 8
    expect(seqs(await kitchen.take(4))).toEqual(['hello', 1, 5, 7]);
    expect(seqs(await members.take(3))).toEqual(['hello', 3, 8]);
  });

  it('rejects invalid query parameters with 400 and the API error shape, before upgrading', async () => {
    const { hub, url } = await startHub();
    for (const query of [{ kinds: 'object,gossip' }, { kinds: '' }, { since: 'abc' }, { since: '-1' }, { since: '1.5' }, { since: '99999999999999999' }, { epoch: 'x'.repeat(65) }, { prefix: 'p'.repeat(1025) }]) {
      const r = await refused(url, query);
      expect(r.status, JSON.stringify(query)).toBe(400);
      expect(r.body.error.code).toBe('CHORUS_BAD_REQUEST');
      expect(r.body.error.message.length).toBeGreaterThan(0);
    }
    expect(hub.clientCount).toBe(0);
    // Parameters it does not know (the token, for instance) are left to others.
    const c = await TestClient.connect(url, { token: 'secret', kinds: ' object , member ' });
    expect(seqs(await c.take(1))).toEqual(['hello']);
  });

  it('parses a subscription: defaults, kinds, since', () => {
    const all = parseSubscription(new URLSearchParams(''));
    expect(all).toEqual({ prefix: '', kinds: new Set(['object', 'member', 'binding']), since: undefined, epoch: undefined });
    expect(parseSubscription(new URLSearchParams('kinds=member&since=0&prefix=a/&epoch=e1'))).toEqual({ prefix: 'a/', kinds: new Set(['member']), since: 0, epoch: 'e1' });
    expect(parseSubscription(new URLSearchParams('kinds=objects'))).toMatch(/kinds must be/);
  });

  it('answers 401 when authorize says false, and the denial it gives otherwise', async () => {
    const { hub, url } = await startHub({}, (req) => {
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
      if (token === 'good') return true;
      if (token === 'weak') return { status: 403, message: 'token lacks scope read' };
      return false;
    });
    expect((await refused(url, {})).status).toBe(401);
    expect((await refused(url, {})).body.error.code).toBe('CHORUS_UNAUTHORIZED');
    const weak = await refused(url, { token: 'weak' });
    expect(weak).toEqual({ status: 403, body: { error: { code: 'CHORUS_FORBIDDEN', message: 'token lacks scope read' } } });
    const ok = await TestClient.connect(url, { token: 'good' });
    expect(seqs(await ok.take(1))).toEqual(['hello']);
    expect(hub.clientCount).toBe(1);
  });

  it('refuses clients beyond maxClients with 503', async () => {
    const { url } = await startHub({ maxClients: 2 });
    await TestClient.connect(url);
    await TestClient.connect(url);
    const r = await refused(url, {});
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('CHORUS_TOO_MANY_CLIENTS');
  });

  it('leaves upgrades of other paths to other handlers', async () => {
    const { server, hub } = await startHub();
    server.on('upgrade', (req: IncomingMessage, socket) => {
      if (req.url === '/other') socket.end('HTTP/1.1 418 Teapot\r\nContent-Length: 0\r\n\r\n');
    });
    const port = (server.address() as AddressInfo).port;
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/other`);
      ws.on('unexpected-response', (_req, res: IncomingMessage) => resolve(res.statusCode ?? 0));
      ws.on('error', reject);
    });
    expect(status).toBe(418);
    expect(hub.clientCount).toBe(0);
  });
});

describe('event stream: resuming', () => {
  it('replays the events missed while disconnected, in order, then hello, then live: no gap, no duplicate', async () => {
    const { hub, url } = await startHub();
    const first = await TestClient.connect(url);
    for (let i = 1; i <= 5; i++) hub.publish(objectEvent(`a/${i}`));
    const seen = await first.take(6);
    const hello = seen[0] as { epoch: string };
    first.ws.close();
    await first.closed;
    for (let i = 6; i <= 10; i++) hub.publish(objectEvent(`a/${i}`));
    const last = seen[5] as { seq: number };
    const again = await TestClient.connect(url, { since: String(last.seq), epoch: hello.epoch });
    expect(seqs(await again.untilHello())).toEqual([6, 7, 8, 9, 10, 'hello']);
    expect(again.messages.at(-1)).toEqual({ kind: 'hello', latest: 10, epoch: hello.epoch });
    hub.publish(objectEvent('a/11'));
    expect(seqs(await again.take(7))).toEqual([6, 7, 8, 9, 10, 'hello', 11]);
    const all = [...seen.slice(1), ...again.messages].filter((m) => m.kind === 'object').map((m) => (m as { seq: number }).seq);
    expect(all).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
  });

  it('replays only what the filter asks for', async () => {
    const { hub, url } = await startHub();
    for (let i = 1; i <= 6; i++) hub.publish(i % 2 === 0 ? objectEvent(`even/${i}`) : memberEvent(`n${i}`));
    const c = await TestClient.connect(url, { since: '1', prefix: 'even/', kinds: 'object' });
    expect(seqs(await c.untilHello())).toEqual([2, 4, 6, 'hello']);
  });

  it('resuming at the latest seq replays nothing and sends no reset', async () => {
    const { hub, url } = await startHub();
    for (let i = 0; i < 3; i++) hub.publish(objectEvent(`a/${i}`));
    const c = await TestClient.connect(url, { since: '3', epoch: hub.epoch });
    expect(seqs(await c.untilHello())).toEqual(['hello']);
  });

  it('sends a reset first when history no longer reaches back to since, then replays what it has', async () => {
    const { hub, url } = await startHub({ historySize: 5 });
    for (let i = 1; i <= 20; i++) hub.publish(objectEvent(`a/${i}`));
    const c = await TestClient.connect(url, { since: '3', epoch: hub.epoch });
    const got = await c.untilHello();
    expect(got[0]).toEqual({ kind: 'reset', reason: 'history too short to resume', oldest: 16, latest: 20, epoch: hub.epoch });
    expect(seqs(got)).toEqual(['reset', 16, 17, 18, 19, 20, 'hello']);
  });

  it('sends a reset when since comes from an earlier run of the node (another epoch, or beyond latest)', async () => {
    const { hub, url } = await startHub({ epoch: 'now' });
    hub.publish(objectEvent('a/1'));
    hub.publish(objectEvent('a/2'));
    const otherEpoch = await TestClient.connect(url, { since: '1', epoch: 'before' });
    expect(seqs(await otherEpoch.untilHello())).toEqual(['reset', 1, 2, 'hello']);
    expect(otherEpoch.messages[0]).toMatchObject({ kind: 'reset', reason: 'the node restarted: sequence numbers started over', oldest: 1, latest: 2, epoch: 'now' });
    const beyond = await TestClient.connect(url, { since: '500' });
    expect(seqs(await beyond.untilHello())).toEqual(['reset', 1, 2, 'hello']);
  });

  it('paces a replay larger than the per-client buffer instead of dropping the client', async () => {
    const { hub, url } = await startHub({ maxBufferedBytes: 64 * 1024 });
    const big = 'x'.repeat(10_000);
    for (let i = 1; i <= 400; i++) hub.publish(objectEvent(`a/${i}`, { big })); // 4 MB of history
    const c = await TestClient.connect(url, { since: '0' });
    const got = await c.untilHello();
    expect(got).toHaveLength(401);
    expect(seqs(got.slice(0, 400))).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect(hub.dropped).toBe(0);
    hub.publish(objectEvent('a/401'));
    expect(seqs((await c.take(402)).slice(400))).toEqual(['hello', 401]);
  });
});

describe('event stream: bounds', () => {
  it('drops a client that stops reading with 1013 while 50 MB are published; memory stays bounded', async () => {
    const { hub, url } = await startHub({ epoch: 'e' });
    const limits = { maxBufferedBytes: 1024 * 1024, historyMaxBytes: 16 * 1024 * 1024 }; // the defaults
    const slow = await TestClient.connect(url);
    const fast = await TestClient.connect(url);
    await Promise.all([slow.take(1), fast.take(1)]);
    slow.ws.pause(); // stops reading its socket: the kernel buffers fill, then the hub's side does

    const value = 'v'.repeat(10 * 1024);
    const total = 5 * 1024; // 5,120 events of 10 kB: 50 MB
    let maxBuffered = 0;
    let maxHistory = 0;
    let droppedAt: number | undefined;
    for (let i = 1; i <= total; i++) {
      hub.publish(objectEvent(`bulk/${i}`, { value }));
      if (i % 64 === 0) {
        const s = hub.stats();
        maxBuffered = Math.max(maxBuffered, s.bufferedBytes);
        maxHistory = Math.max(maxHistory, s.historyBytes);
        if (s.dropped > 0 && droppedAt === undefined) droppedAt = i;
        await fast.take(i + 1); // the fast client keeps up: it has read everything so far (and the hello)
      }
    }
    expect(droppedAt).toBeDefined();
    expect(hub.dropped).toBe(1);
    expect(hub.clientCount).toBe(1); // the fast client stays
    // Bounded: each client's socket holds at most the buffer limit plus one event; history its byte cap.
    const eventBytes = JSON.stringify({ ...objectEvent('bulk/5120', { value }), seq: total }).length;
    expect(maxBuffered).toBeLessThanOrEqual(2 * (limits.maxBufferedBytes + eventBytes));
    expect(maxBuffered).toBeGreaterThan(limits.maxBufferedBytes / 2); // the slow socket's own buffer did fill: the gate was hit
    expect(maxHistory).toBeLessThanOrEqual(limits.historyMaxBytes);

    // The fast client got every event, in order.
    const got = await fast.take(total + 1);
    expect(got.slice(1).every((m, i) => 'seq' in m && m.seq === i + 1)).toBe(true);

    // The slow one, once it reads again, finds the close frame after what was buffered.
    slow.ws.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(1013);
    expect(closed.reason).toMatch(/^slow consumer/);
    expect(slow.messages.length).toBeLessThan(total / 2);
  });

  it('keeps a bounded history: by count and by bytes, the newest event always kept', async () => {
    const byCount = (await startHub({ historySize: 100 })).hub;
    for (let i = 0; i < 1000; i++) byCount.publish(objectEvent(`a/${i}`));
    expect(byCount.stats()).toMatchObject({ historyEvents: 100, latest: 1000 });
    const byBytes = (await startHub({ historyMaxBytes: 64 * 1024 })).hub;
    for (let i = 0; i < 100; i++) byBytes.publish(objectEvent(`a/${i}`, { v: 'x'.repeat(10_000) }));
    expect(byBytes.stats().historyEvents).toBe(6);
    expect(byBytes.stats().historyBytes).toBeLessThanOrEqual(64 * 1024);
    const huge = (await startHub({ historyMaxBytes: 1000 })).hub;
    huge.publish(objectEvent('a/huge', { v: 'x'.repeat(5000) }));
    expect(huge.stats().historyEvents).toBe(1);
  });

  it('heartbeat cuts a client that does not answer pings, keeps one that does', async () => {
    const { hub, url } = await startHub();
    const silent = await TestClient.connect(url);
    const lively = await TestClient.connect(url);
    await Promise.all([silent.take(1), lively.take(1)]);
    silent.ws.pause();
    const pinged = new Promise((resolve) => lively.ws.once('ping', resolve));
    hub.heartbeat();
    await pinged;
    // A ping round trip of our own: the hub answers it after reading our pong to its ping.
    await new Promise<void>((resolve) => {
      lively.ws.once('pong', () => resolve());
      lively.ws.ping();
    });
    hub.heartbeat();
    expect(hub.clientCount).toBe(1);
    hub.publish(objectEvent('a/1'));
    expect(seqs(await lively.take(2))).toEqual(['hello', 1]);
  });

  it('close() says goodbye with 1001 to every client', async () => {
    const { hub, url } = await startHub();
    const c = await TestClient.connect(url);
    await c.take(1);
    hub.close();
    expect((await c.closed).code).toBe(1001);
    expect(hub.clientCount).toBe(0);
  });
});
