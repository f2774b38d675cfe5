import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Timestamp } from '../core/hlc.ts';
import type { Json } from '../core/json.ts';

/** One event on the live stream. */
export type LiveEvent =
  | { seq: number; kind: 'object'; id: string; set: Record<string, Json>; removed: string[]; created: boolean; deleted: boolean; origin: 'local' | 'remote'; node: string; ts: Timestamp; at: number }
  | { seq: number; kind: 'member'; nodeId: string; name: string; previous: string; status: string; at: number }
  | { seq: number; kind: 'binding'; key: string; status: string; detail?: string; at: number };

/** An event before the hub numbers it. */
export type LiveEventBody = LiveEvent extends infer E ? (E extends LiveEvent ? Omit<E, 'seq'> : never) : never;

/** Limits of the event stream. */
export interface EventHubOptions {
  /** Events kept for clients resuming after a reconnect. */
  readonly historySize: number;
  /** Bytes queued to one client before it is dropped as too slow. */
  readonly maxBufferedBytes: number;
}

const DEFAULTS: EventHubOptions = { historySize: 10_000, maxBufferedBytes: 1024 * 1024 };
const KINDS = new Set(['object', 'member', 'binding']);

interface Client {
  readonly ws: WebSocket;
  readonly prefix: string;
  readonly kinds: ReadonlySet<string>;
}

function matches(c: Client, e: LiveEvent): boolean {
  return c.kinds.has(e.kind) && (e.kind !== 'object' || e.id.startsWith(c.prefix));
}

/**
 * Numbers events, keeps a bounded history for resuming, and fans them out to WebSocket clients
 * at /api/v1/events?prefix=P&kinds=object,member&since=SEQ. A client that cannot keep up is
 * closed with code 1013 and reason "slow consumer" instead of buffering without bound.
 */
export class EventHub {
  private seq = 0;
  private readonly history: LiveEvent[] = [];
  private readonly clients = new Set<Client>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly opts: EventHubOptions;
  dropped = 0;

  constructor(opts: Partial<EventHubOptions> = {}) {
    this.opts = { ...DEFAULTS, ...opts };
  }

  /** Number of connected clients. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** The sequence number of the latest event. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Numbers an event and sends it to every interested client. */
  publish(body: LiveEventBody): LiveEvent {
    const e = { ...body, seq: ++this.seq } as LiveEvent;
    this.history.push(e);
    if (this.history.length > this.opts.historySize) this.history.splice(0, this.history.length - this.opts.historySize);
    if (this.clients.size > 0) {
      const text = JSON.stringify(e);
      for (const c of this.clients) if (matches(c, e)) this.deliver(c, text);
    }
    return e;
  }

  private deliver(c: Client, text: string): void {
    if (c.ws.bufferedAmount > this.opts.maxBufferedBytes) {
      this.dropped++;
      this.clients.delete(c);
      c.ws.close(1013, 'slow consumer: events were produced faster than read');
      return;
    }
    c.ws.send(text);
  }

  /** Handles the HTTP upgrade of `/api/v1/events`; other paths are left to other handlers. */
  attach(server: Server, authorize: (req: IncomingMessage) => boolean = () => true): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/api/v1/events') return;
      if (!authorize(req)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const kinds = url.searchParams.get('kinds')?.split(',').filter((k) => KINDS.has(k)) ?? [...KINDS];
      const sinceText = url.searchParams.get('since');
      const since = sinceText === null ? undefined : Number(sinceText);
      this.wss.handleUpgrade(req, socket, head, (ws) => this.join(ws, url.searchParams.get('prefix') ?? '', new Set(kinds), since));
    });
  }

  private join(ws: WebSocket, prefix: string, kinds: Set<string>, since: number | undefined): void {
    const client: Client = { ws, prefix, kinds };
    ws.on('close', () => this.clients.delete(client));
    ws.on('error', () => this.clients.delete(client));
    if (since !== undefined && Number.isSafeInteger(since)) {
      const oldest = this.history[0]?.seq ?? this.seq + 1;
      // Events after `since` that fell out of history cannot be replayed: say so, then go live.
      if (since + 1 < oldest && since < this.seq) ws.send(JSON.stringify({ kind: 'reset', reason: 'history too short to resume', oldest, latest: this.seq }));
      for (const e of this.history) if (e.seq > since && matches(client, e)) this.deliver(client, JSON.stringify(e));
    }
    ws.send(JSON.stringify({ kind: 'hello', latest: this.seq }));
    this.clients.add(client);
  }

  /** Closes every client. */
  close(): void {
    for (const c of this.clients) c.ws.close(1001, 'node stopping');
    this.clients.clear();
    this.wss.close();
  }
}
