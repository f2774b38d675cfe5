import WebSocket from 'ws';

/** The part of an object event on `/api/v1/events` that benchmarks read. */
export interface ObjectEvent {
  readonly seq: number;
  readonly kind: 'object';
  readonly id: string;
  readonly set: Record<string, unknown>;
  readonly origin: 'local' | 'remote';
}

/** Options of `openEvents`. */
export interface EventStreamOptions {
  /** Only objects whose id starts with this. */
  readonly prefix?: string;
  /** Replay events after this sequence number from the node's history first. */
  readonly since?: number;
}

/**
 * A client of a node's live event stream (object events only). Events are published after the
 * change is committed to that node's storage, so an event is proof of a durable copy there.
 */
export class EventStream {
  private listener: ((e: ObjectEvent) => void) | undefined;
  /** Other messages (hello, reset) seen, by kind. */
  readonly control: Record<string, number> = {};

  private constructor(private readonly ws: WebSocket) {}

  /** Connects and resolves once the node said hello (after any replay). */
  static open(baseUrl: string, opts: EventStreamOptions = {}): Promise<EventStream> {
    const u = new URL('/api/v1/events', baseUrl.replace(/^http/, 'ws'));
    u.searchParams.set('kinds', 'object');
    if (opts.prefix !== undefined) u.searchParams.set('prefix', opts.prefix);
    if (opts.since !== undefined) u.searchParams.set('since', String(opts.since));
    const ws = new WebSocket(u, { perMessageDeflate: false });
    const stream = new EventStream(ws);
    const backlog: ObjectEvent[] = [];
    return new Promise((resolve, reject) => {
      ws.on('error', reject);
      ws.on('message', (data: Buffer) => {
        const m = JSON.parse(data.toString('utf8')) as { kind: string };
        if (m.kind === 'object') {
          if (stream.listener === undefined) backlog.push(m as ObjectEvent);
          else stream.listener(m as ObjectEvent);
          return;
        }
        stream.control[m.kind] = (stream.control[m.kind] ?? 0) + 1;
        if (m.kind === 'hello') {
          stream.backlog = backlog;
          resolve(stream);
        }
      });
      ws.on('close', (code, reason) => {
        if (code !== 1000 && code !== 1005) stream.closedWith = `${code} ${reason.toString()}`;
      });
    });
  }

  /** Events that arrived before a listener was set (the replay, when `since` was given). */
  backlog: ObjectEvent[] = [];
  /** Why the node closed the stream, when it did so abnormally (e.g. "1013 slow consumer"). */
  closedWith: string | undefined;

  /** Sets the one listener for object events; it first receives the backlog, in order. */
  onObject(listener: (e: ObjectEvent) => void): void {
    const backlog = this.backlog;
    this.backlog = [];
    for (const e of backlog) listener(e);
    this.listener = listener;
  }

  /** Closes the stream. */
  close(): void {
    this.ws.close(1000);
  }
}
