import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { EventHub, type EventAuthorizer, type EventHubOptions, type LiveEvent, type LiveEventBody, type ResetMessage } from '../../src/api/events.ts';
import { ExitCode } from '../../src/cli/client/exit-codes.ts';
import { watchEvents } from '../../src/cli/client/watch.ts';
import { advance, backoffMs, eventsUrl, type StreamCursor } from '../../src/cli/client/watch-core.ts';

describe('watch: cursor, backoff, URL (pure)', () => {
  const start: StreamCursor = { epoch: undefined, seq: undefined };

  it('hello moves the cursor to latest and marks the watcher caught up', () => {
    expect(advance(start, { kind: 'hello', latest: 7, epoch: 'e1' })).toEqual({ cursor: { epoch: 'e1', seq: 7 }, emit: undefined, caughtUp: true });
  });

  it('an event moves the cursor to its seq and is emitted; one at or below the cursor is a duplicate', () => {
    const at7: StreamCursor = { epoch: 'e1', seq: 7 };
    const e8 = { kind: 'object', seq: 8, id: 'a' };
    expect(advance(at7, e8)).toEqual({ cursor: { epoch: 'e1', seq: 8 }, emit: e8, caughtUp: false });
    expect(advance(at7, { kind: 'object', seq: 7, id: 'a' })).toEqual({ cursor: at7, emit: undefined, caughtUp: false });
    expect(advance(start, e8).emit).toBe(e8); // no cursor yet: anything goes
  });

  it('a reset moves the cursor to just before the oldest replayed event, in the new epoch, and is emitted', () => {
    const reset = { kind: 'reset', reason: 'the node restarted: sequence numbers started over', oldest: 1, latest: 3, epoch: 'e2' };
    const step = advance({ epoch: 'e1', seq: 500 }, reset);
    expect(step).toEqual({ cursor: { epoch: 'e2', seq: 0 }, emit: reset, caughtUp: false });
    expect(advance(step.cursor, { kind: 'object', seq: 1, id: 'a' }).emit).toBeDefined();
  });

  it('ignores what it does not understand', () => {
    for (const m of [null, 42, 'text', [], {}, { kind: 'hello' }, { kind: 'reset' }, { kind: 'object' }, { kind: 'future', seq: 'x' }]) {
      expect(advance({ epoch: 'e', seq: 3 }, m)).toEqual({ cursor: { epoch: 'e', seq: 3 }, emit: undefined, caughtUp: false });
    }
  });

  it('backs off from 250 ms doubling to 10 s, jittered between half and all of it', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10, 100].map((a) => backoffMs(a, () => 0.999999))).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
    expect([0, 1, 6].map((a) => backoffMs(a, () => 0))).toEqual([125, 250, 5000]);
  });

  it('builds the stream URL: ws or wss, kinds, prefix, since and epoch, token', () => {
    expect(eventsUrl('http://127.0.0.1:7946', { prefix: '', kinds: ['object', 'member'], cursor: start, token: undefined }).href).toBe('ws://127.0.0.1:7946/api/v1/events?kinds=object%2Cmember');
    expect(eventsUrl('https://hub.example/chorus', { prefix: 'kitchen/', kinds: ['object'], cursor: { epoch: 'e1', seq: 42 }, token: 't k' }).href).toBe(
      'wss://hub.example/chorus/api/v1/events?kinds=object&prefix=kitchen%2F&since=42&epoch=e1&token=t+k',
    );
  });
});

// ---- against a real hub -------------------------------------------------------------------------

interface Node {
  hub: EventHub;
  server: Server;
  url: string;
  /** Sockets upgraded so far (to cut them from the server side). */
  sockets: Duplex[];
}

const nodes: Node[] = [];
const stops: AbortController[] = [];

async function startNode(opts: Partial<EventHubOptions> = {}, port = 0, authorize?: EventAuthorizer): Promise<Node> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  const hub = new EventHub({ pingIntervalMs: 0, ...opts });
  hub.attach(server, authorize);
  const sockets: Duplex[] = [];
  server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const n = { hub, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets };
  nodes.push(n);
  return n;
}

async function stopNode(n: Node): Promise<void> {
  n.hub.close();
  n.server.closeAllConnections();
  await new Promise((resolve) => n.server.close(resolve));
}

afterEach(async () => {
  for (const s of stops.splice(0)) s.abort();
  for (const n of nodes.splice(0)) if (n.server.listening) await stopNode(n);
});

/** A watch running in this process, recording what it prints. */
function watch(url: string, o: { since?: number; prefix?: string; token?: string } = {}) {
  const stop = new AbortController();
  stops.push(stop);
  const events: LiveEvent[] = [];
  const resets: ResetMessage[] = [];
  const notices: string[] = [];
  const done = watchEvents({
    target: () => ({ url, token: o.token, from: '--url' }),
    prefix: o.prefix ?? '',
    kinds: ['object', 'member'],
    ...(o.since === undefined ? {} : { since: o.since }),
    signal: stop.signal,
    onEvent: (e) => events.push(e),
    onReset: (r) => resets.push(r),
    notice: (t) => notices.push(t),
    random: () => 0, // shortest backoff: 125 ms, 250 ms...
  });
  return { events, resets, notices, done, stop: () => stop.abort() };
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function obj(id: string): LiveEventBody {
  return { kind: 'object', id, set: { on: true }, removed: [], created: false, deleted: false, origin: 'local', node: 'a'.repeat(32), ts: { ms: 1, lc: 0 }, at: 1 } as LiveEventBody;
}

const seqsOf = (events: readonly LiveEvent[]): number[] => events.map((e) => e.seq);

describe('watch: streaming and reconnecting (real hub)', () => {
  it('prints live events in order and exits 0 when stopped', async () => {
    const n = await startNode();
    const w = watch(n.url, { prefix: 'a/' });
    await until('connected', () => w.notices.some((t) => t.startsWith('watching')));
    n.hub.publish(obj('a/1'));
    n.hub.publish(obj('b/1'));
    n.hub.publish(obj('a/2'));
    await until('two events', () => w.events.length === 2);
    expect(w.events.map((e) => (e.kind === 'object' ? e.id : ''))).toEqual(['a/1', 'a/2']);
    w.stop();
    expect(await w.done).toBe(ExitCode.Ok);
    await until('the hub saw the close', () => n.hub.clientCount === 0);
  });

  it('--since replays history first', async () => {
    const n = await startNode();
    for (let i = 1; i <= 5; i++) n.hub.publish(obj(`a/${i}`));
    const w = watch(n.url, { since: 2 });
    await until('replay', () => w.events.length === 3);
    expect(seqsOf(w.events)).toEqual([3, 4, 5]);
  });

  it('after the connection drops, resumes from the last seq: no gap, no duplicate', async () => {
    const n = await startNode();
    const w = watch(n.url);
    await until('connected', () => n.hub.clientCount === 1);
    for (let i = 1; i <= 3; i++) n.hub.publish(obj(`a/${i}`));
    await until('three events', () => w.events.length === 3);
    for (const s of n.sockets) s.destroy(); // the connection dies (no close frame)
    await until('disconnected', () => n.hub.clientCount === 0);
    for (let i = 4; i <= 6; i++) n.hub.publish(obj(`a/${i}`)); // missed while away
    await until('resumed', () => w.notices.some((t) => t.startsWith('resumed')));
    n.hub.publish(obj('a/7'));
    await until('seven events', () => w.events.length >= 7);
    expect(seqsOf(w.events)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(w.resets).toEqual([]);
    expect(w.notices.some((t) => /^disconnected: .*reconnecting in 0\.1 s from #3$/.test(t))).toBe(true);
  });

  it('notices a restarted node (new epoch) with a reset, then takes everything the new run has', async () => {
    const first = await startNode({ epoch: 'run-1' });
    const w = watch(first.url);
    await until('connected', () => first.hub.clientCount === 1);
    for (let i = 1; i <= 9; i++) first.hub.publish(obj(`old/${i}`));
    await until('nine events', () => w.events.length === 9);
    const port = Number(new URL(first.url).port);
    await stopNode(first);
    const second = await startNode({ epoch: 'run-2' }, port);
    second.hub.publish(obj('new/1')); // seq 1 again, lower than the watcher's 9
    second.hub.publish(obj('new/2'));
    await until('caught up', () => w.events.length === 11);
    expect(w.resets).toEqual([{ kind: 'reset', reason: 'the node restarted: sequence numbers started over', oldest: 1, latest: 2, epoch: 'run-2' }]);
    expect(w.events.slice(9).map((e) => (e.kind === 'object' ? e.id : ''))).toEqual(['new/1', 'new/2']);
  });

  it('dropped as a slow consumer (1013): reconnects at once and is told what was lost', async () => {
    const n = await startNode({ maxBufferedBytes: 1, historySize: 5 });
    const w = watch(n.url);
    await until('connected', () => n.hub.clientCount === 1);
    for (let i = 1; i <= 20; i++) n.hub.publish(obj(`a/${i}`)); // one tick: the client is behind the history
    expect(n.hub.dropped).toBe(1);
    await until('replayed', () => w.events.some((e) => e.seq === 20));
    expect(w.notices.some((t) => /^disconnected: closed 1013 \(slow consumer.*reconnecting in 0\.0 s/.test(t))).toBe(true);
    expect(w.resets).toHaveLength(1);
    expect(w.resets[0]).toMatchObject({ reason: 'history too short to resume', oldest: 16, latest: 20 });
    expect(seqsOf(w.events)).toEqual([1, 16, 17, 18, 19, 20]);
  });

  it('exit 4 when the first connection fails, 5 when the token is refused, 2 when the query is rejected', async () => {
    const gone = await startNode();
    await stopNode(gone);
    const unreachable = watch(gone.url);
    expect(await unreachable.done).toBe(ExitCode.Unreachable);
    expect(unreachable.notices.join('\n')).toMatch(/cannot reach the node at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);

    const locked = await startNode({}, 0, (req) => new URL(req.url ?? '/', 'http://x').searchParams.get('token') === 'good');
    const refused = watch(locked.url, { token: 'bad' });
    expect(await refused.done).toBe(ExitCode.Unauthorized);
    expect(refused.notices).toEqual(['the node refused the event stream: a valid token is required (CHORUS_UNAUTHORIZED)']);
    const allowed = watch(locked.url, { token: 'good' });
    await until('connected with the token', () => locked.hub.clientCount === 1);
    allowed.stop();
    expect(await allowed.done).toBe(ExitCode.Ok);

    const picky = createServer();
    const body = JSON.stringify({ error: { code: 'CHORUS_BAD_REQUEST', message: 'no thanks' } });
    picky.on('upgrade', (_req, socket: Duplex) => socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
    await new Promise<void>((resolve) => picky.listen(0, '127.0.0.1', resolve));
    const rejected = watch(`http://127.0.0.1:${(picky.address() as AddressInfo).port}`);
    expect(await rejected.done).toBe(ExitCode.Usage);
    expect(rejected.notices).toEqual(['the node refused the event stream: no thanks (CHORUS_BAD_REQUEST)']);
    picky.close();
  });

  it('cuts a silent connection and reconnects', async () => {
    const n = await startNode();
    const stop = new AbortController();
    stops.push(stop);
    const notices: string[] = [];
    const done = watchEvents({ target: () => ({ url: n.url, token: undefined, from: '--url' }), prefix: '', kinds: ['object'], signal: stop.signal, onEvent: () => undefined, onReset: () => undefined, notice: (t) => notices.push(t), random: () => 0, silenceMs: 500 });
    await until('reconnected after silence', () => notices.some((t) => t.startsWith('resumed')));
    expect(notices.some((t) => t.startsWith('disconnected: closed 1006'))).toBe(true);
    stop.abort();
    expect(await done).toBe(ExitCode.Ok);
  });
});
