import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';
import type { Timestamp } from '../core/hlc.ts';
import type { Json } from '../core/json.ts';

/** One event on the live stream. */
export type LiveEvent =
  | { seq: number; kind: 'object'; id: string; set: Record<string, Json>; removed: string[]; created: boolean; deleted: boolean; origin: 'local' | 'remote'; node: string; ts: Timestamp; at: number }
  | { seq: number; kind: 'member'; nodeId: string; name: string; previous: string; status: string; at: number }
  | { seq: number; kind: 'binding'; key: string; status: string; detail?: string; at: number };

/** An event before the hub numbers it. */
export type LiveEventBody = LiveEvent extends infer E ? (E extends LiveEvent ? Omit<E, 'seq'> : never) : never;

/** The kinds of event a client may ask for with `kinds=`. */
export type LiveEventKind = LiveEvent['kind'];

/** Sent once a client is caught up: events after `latest` are live. `epoch` names this run of the hub. */
export interface HelloMessage {
  kind: 'hello';
  latest: number;
  epoch: string;
}

/** Sent before the replay when the asked-for resume point cannot be honoured; events may be missing. */
export interface ResetMessage {
  kind: 'reset';
  reason: string;
  /** The oldest event still in history: the replay starts there. */
  oldest: number;
  latest: number;
  epoch: string;
}

/** Every message a client of the stream receives. */
export type StreamMessage = LiveEvent | HelloMessage | ResetMessage;

/** Why an upgrade is refused, as `authorize` may answer. */
export interface EventDenial {
  readonly status: 401 | 403;
  readonly code?: string;
  readonly message: string;
}

/** Decides whether a client may open the stream: true, false (401), or a denial. */
export type EventAuthorizer = (req: IncomingMessage) => boolean | EventDenial | Promise<boolean | EventDenial>;

/** Limits of the event stream. */
export interface EventHubOptions {
  /** Events kept for clients resuming after a reconnect (and for clients catching up). */
  readonly historySize: number;
  /** Serialized bytes of history kept; the oldest events go first when either bound is hit. */
  readonly historyMaxBytes: number;
  /** Bytes queued on one client's socket before the hub stops writing to it and waits for a flush. */
  readonly maxBufferedBytes: number;
  /** Connected clients at most; more are refused with 503. */
  readonly maxClients: number;
  /** Pings every client this often; one that has not answered the previous ping is cut. 0: never. */
  readonly pingIntervalMs: number;
  /** How long a closing client may take to read the close frame before its socket is destroyed. */
  readonly closeTimeoutMs: number;
  /** Names this run of the hub (sequence numbers restart with it); random by default. */
  readonly epoch: string;
}

/** Defaults, each with its reason. */
const DEFAULTS: Omit<EventHubOptions, 'epoch'> = {
  // About a minute of a busy home's changes: enough to ride out a reconnect.
  historySize: 10_000,
  // Bounds memory whatever the event size: 10,000 events of up to a few kB each.
  historyMaxBytes: 16 * 1024 * 1024,
  // A client more than 1 MB behind on its socket gets no more until it reads.
  maxBufferedBytes: 1024 * 1024,
  // Dashboards, integrations and scripts: a home has tens, not thousands.
  maxClients: 1000,
  // Finds clients that vanished without a FIN (a laptop closed, Wi-Fi gone).
  pingIntervalMs: 30_000,
  // A dropped slow client holds its buffer at most this long.
  closeTimeoutMs: 5_000,
};

const KINDS: readonly LiveEventKind[] = ['object', 'member', 'binding'];
const MAX_PREFIX = 1024;
const MAX_EPOCH = 64;
const PATH = '/api/v1/events';

/** Close codes the hub uses. */
export const CloseCode = { GoingAway: 1001, TryAgainLater: 1013 } as const;

/** One numbered event as the history keeps it: serialized once, sent to every client. */
interface Entry {
  readonly seq: number;
  readonly kind: LiveEventKind;
  readonly id: string | undefined;
  readonly text: string;
  readonly bytes: number;
}

/**
 * The last events, bounded by count and bytes, with sequence numbers contiguous from
 * `oldest` to the newest (so lookup by seq is arithmetic). The newest event is always kept.
 */
class History {
  private entries: Entry[] = [];
  private head = 0;
  private totalBytes = 0;

  constructor(
    private readonly maxEvents: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.entries.length - this.head;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Seq of the oldest event kept, or undefined when empty. */
  get oldest(): number | undefined {
    return this.entries[this.head]?.seq;
  }

  push(e: Entry): void {
    this.entries.push(e);
    this.totalBytes += e.bytes;
    while (this.size > 1 && (this.size > this.maxEvents || this.totalBytes > this.maxBytes)) {
      this.totalBytes -= (this.entries[this.head] as Entry).bytes;
      this.head++;
    }
    // Compact now and then instead of shifting the array at every eviction.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  get(seq: number): Entry | undefined {
    const oldest = this.oldest;
    if (oldest === undefined || seq < oldest) return undefined;
    return this.entries[this.head + (seq - oldest)];
  }
}

/** A connected client. Invariant: `cursor` ≤ the hub's latest seq; every matching event ≤ cursor was sent. */
interface Client {
  readonly ws: WebSocket;
  readonly prefix: string;
  readonly kinds: ReadonlySet<string>;
  /** Last seq sent or skipped (not matching). */
  cursor: number;
  /** Latest seq when the client joined: `hello` goes out once the cursor reaches it. */
  helloAt: number | undefined;
  /** A write past `maxBufferedBytes` is in flight: nothing more until it flushes. */
  waiting: boolean;
  /** Answered the last ping (or has not been pinged yet). */
  alive: boolean;
}

/** A subscription as the query string asks for it. */
export interface Subscription {
  readonly prefix: string;
  readonly kinds: ReadonlySet<LiveEventKind>;
  readonly since: number | undefined;
  readonly epoch: string | undefined;
}

/** Parses `prefix`, `kinds`, `since` and `epoch`; a string names the first invalid parameter. */
export function parseSubscription(params: URLSearchParams): Subscription | string {
  const prefix = params.get('prefix') ?? '';
  if (prefix.length > MAX_PREFIX) return `prefix is longer than ${MAX_PREFIX} characters`;
  const kindsText = params.get('kinds');
  let kinds = new Set<LiveEventKind>(KINDS);
  if (kindsText !== null) {
    const asked = kindsText.split(',').map((k) => k.trim());
    const unknown = asked.filter((k) => !(KINDS as readonly string[]).includes(k));
    if (unknown.length > 0 || asked.length === 0) return `kinds must be a comma-separated list of ${KINDS.join(', ')}; got "${kindsText}"`;
    kinds = new Set(asked as LiveEventKind[]);
  }
  const sinceText = params.get('since');
  let since: number | undefined;
  if (sinceText !== null) {
    since = /^\d{1,16}$/.test(sinceText) ? Number(sinceText) : NaN;
    if (!Number.isSafeInteger(since)) return `since must be a non-negative integer (a seq), got "${sinceText}"`;
  }
  const epoch = params.get('epoch') ?? undefined;
  if (epoch !== undefined && (epoch.length === 0 || epoch.length > MAX_EPOCH)) return `epoch must be 1 to ${MAX_EPOCH} characters`;
  return { prefix, kinds, since, epoch };
}

function matches(c: Client, e: Entry): boolean {
  return c.kinds.has(e.kind) && (e.id === undefined || e.id.startsWith(c.prefix));
}

/** Answers an upgrade request with a plain HTTP error in the API's error shape, then closes. */
function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 503: 'Service Unavailable' }[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Numbers events, keeps a bounded history, and fans events out to WebSocket clients at
 * /api/v1/events?prefix=P&kinds=object,member&since=SEQ&epoch=E.
 *
 * Each client is a cursor into the shared history, so a client costs no queue of its own:
 * 1. An idle client is sent each matching event as it is published.
 * 2. Once a client's socket holds `maxBufferedBytes` unsent, the hub stops writing to it until
 *    that write flushes; it then catches up from history (this also paces a long replay).
 * 3. A client whose next event has left the history is closed with 1013 and a reason:
 *    memory stays bounded by history plus `maxBufferedBytes` per client.
 * 4. On resume, events after `since` still in history are replayed in order, then `hello`
 *    (with the latest seq at join), then live events. A `reset` comes first when events were
 *    lost: history too short, or `since`/`epoch` from an earlier run of the node.
 */
export class EventHub {
  private seq = 0;
  private readonly history: History;
  private readonly clients = new Set<Client>();
  private readonly wss: WebSocketServer;
  private readonly opts: EventHubOptions;
  private pinger: NodeJS.Timeout | undefined;
  private droppedCount = 0;

  constructor(opts: Partial<EventHubOptions> = {}) {
    this.opts = { ...DEFAULTS, epoch: randomBytes(8).toString('hex'), ...opts };
    this.history = new History(this.opts.historySize, this.opts.historyMaxBytes);
    // ws 8.23 takes closeTimeout; @types/ws 8.18 does not know it yet (hence the wider type).
    const options: ServerOptions & { closeTimeout: number } = { noServer: true, maxPayload: 4096, closeTimeout: this.opts.closeTimeoutMs };
    this.wss = new WebSocketServer(options);
  }

  /** Number of connected clients. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Clients closed as too slow (1013) since the hub started. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** The sequence number of the latest event. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Names this run of the hub; sent in `hello` and `reset`. */
  get epoch(): string {
    return this.opts.epoch;
  }

  /** Sizes for metrics and tests: clients, drops, history, bytes waiting on client sockets. */
  stats(): { clients: number; dropped: number; latest: number; historyEvents: number; historyBytes: number; bufferedBytes: number } {
    let bufferedBytes = 0;
    for (const c of this.clients) bufferedBytes += c.ws.bufferedAmount;
    return { clients: this.clients.size, dropped: this.droppedCount, latest: this.seq, historyEvents: this.history.size, historyBytes: this.history.bytes, bufferedBytes };
  }

  /** Numbers an event and sends it to every interested client. */
  publish(body: LiveEventBody): LiveEvent {
    const e = { ...body, seq: ++this.seq } as LiveEvent;
    const text = JSON.stringify(e);
    this.history.push({ seq: e.seq, kind: e.kind, id: e.kind === 'object' ? e.id : undefined, text, bytes: Buffer.byteLength(text) });
    for (const c of this.clients) this.pump(c);
    return e;
  }

  /** Sends `c` what it has not seen, up to its buffer limit; drops it if history moved past it. */
  private pump(c: Client): void {
    if (!this.clients.has(c)) return; // gone: closed, dropped, or cut (a late write callback)
    for (;;) {
      if (c.helloAt !== undefined && c.cursor >= c.helloAt) {
        this.sendControl(c, { kind: 'hello', latest: c.helloAt, epoch: this.opts.epoch });
        c.helloAt = undefined;
      }
      if (c.cursor >= this.seq) return;
      const next = this.history.get(c.cursor + 1);
      if (next === undefined) return this.drop(c);
      if (c.waiting) return;
      c.cursor = next.seq;
      if (!matches(c, next)) continue;
      if (c.ws.bufferedAmount + next.bytes <= this.opts.maxBufferedBytes) {
        c.ws.send(next.text);
        continue;
      }
      c.waiting = true;
      c.ws.send(next.text, (err) => {
        c.waiting = false;
        if (err === undefined || err === null) this.pump(c);
      });
      return;
    }
  }

  private sendControl(c: Client, m: HelloMessage | ResetMessage): void {
    c.ws.send(JSON.stringify(m));
  }

  private drop(c: Client): void {
    this.droppedCount++;
    this.clients.delete(c);
    c.ws.close(CloseCode.TryAgainLater, 'slow consumer: fell behind the event history; reconnect with since');
  }

  /** Handles the HTTP upgrade of `/api/v1/events`; other paths are left to other handlers. */
  attach(server: Server, authorize: EventAuthorizer = () => true): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== PATH) return;
      socket.on('error', () => socket.destroy()); // a reset before the upgrade completes
      this.upgrade(req, socket, head, url, authorize).catch(() => socket.destroy());
    });
    if (this.opts.pingIntervalMs > 0 && this.pinger === undefined) {
      this.pinger = setInterval(() => this.heartbeat(), this.opts.pingIntervalMs);
      this.pinger.unref();
    }
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, authorize: EventAuthorizer): Promise<void> {
    const verdict = await authorize(req);
    if (verdict !== true) {
      const denial: EventDenial = verdict === false ? { status: 401, message: 'a valid token is required' } : verdict;
      return refuse(socket, denial.status, denial.code ?? (denial.status === 401 ? 'CHORUS_UNAUTHORIZED' : 'CHORUS_FORBIDDEN'), denial.message);
    }
    const sub = parseSubscription(url.searchParams);
    if (typeof sub === 'string') return refuse(socket, 400, 'CHORUS_BAD_REQUEST', sub);
    if (this.clients.size >= this.opts.maxClients) return refuse(socket, 503, 'CHORUS_TOO_MANY_CLIENTS', `the event stream already has ${this.opts.maxClients} clients`);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.join(ws, sub));
  }

  private join(ws: WebSocket, sub: Subscription): void {
    const client: Client = { ws, prefix: sub.prefix, kinds: sub.kinds, cursor: this.seq, helloAt: this.seq, waiting: false, alive: true };
    const leave = (): void => {
      this.clients.delete(client);
    };
    ws.on('close', leave);
    ws.on('error', leave);
    ws.on('pong', () => (client.alive = true));
    if (sub.since !== undefined) {
      const oldest = this.history.oldest ?? this.seq + 1;
      const reason = this.resetReason(sub.since, sub.epoch, oldest);
      if (reason !== undefined) this.sendControl(client, { kind: 'reset', reason, oldest, latest: this.seq, epoch: this.opts.epoch });
      client.cursor = reason === undefined ? sub.since : oldest - 1;
    }
    this.clients.add(client);
    this.pump(client);
  }

  /** Why resuming after `since` would miss events, or undefined if it would not. */
  private resetReason(since: number, epoch: string | undefined, oldest: number): string | undefined {
    if ((epoch !== undefined && epoch !== this.opts.epoch) || since > this.seq) return 'the node restarted: sequence numbers started over';
    if (since + 1 < oldest) return 'history too short to resume';
    return undefined;
  }

  /** Pings every client; one that did not answer the previous ping is cut. The timer calls this. */
  heartbeat(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        this.clients.delete(c);
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  /** Closes every client. */
  close(): void {
    if (this.pinger !== undefined) clearInterval(this.pinger);
    this.pinger = undefined;
    for (const c of this.clients) c.ws.close(CloseCode.GoingAway, 'node stopping');
    this.clients.clear();
    this.wss.close();
  }
}
