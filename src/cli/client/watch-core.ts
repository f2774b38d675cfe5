import type { LiveEvent, LiveEventKind, ResetMessage } from '../../api/events.ts';

/** Where a watch resumes after a reconnect: the hub's epoch and the last seq accounted for. */
export interface StreamCursor {
  readonly epoch: string | undefined;
  readonly seq: number | undefined;
}

/** What one message from the stream means for the watcher. */
export interface Step {
  readonly cursor: StreamCursor;
  /** What to print, if anything. */
  readonly emit: LiveEvent | ResetMessage | undefined;
  /** The node said hello: the watcher is caught up (and the connection counts as established). */
  readonly caughtUp: boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Advances the cursor over one stream message (pure). `hello` moves it to the latest seq at
 * join (every matching event up to it was sent); a `reset` to just before the oldest event
 * the node replays; an event to its seq. An event at or below the cursor in the same run is
 * a duplicate and is not emitted. Unknown messages change nothing.
 */
export function advance(cursor: StreamCursor, message: unknown): Step {
  const none = { cursor, emit: undefined, caughtUp: false };
  if (!isRecord(message) || typeof message.kind !== 'string') return none;
  if (message.kind === 'hello') {
    if (typeof message.latest !== 'number') return none;
    return { cursor: { epoch: typeof message.epoch === 'string' ? message.epoch : cursor.epoch, seq: message.latest }, emit: undefined, caughtUp: true };
  }
  if (message.kind === 'reset') {
    if (typeof message.oldest !== 'number') return none;
    const epoch = typeof message.epoch === 'string' ? message.epoch : cursor.epoch;
    return { cursor: { epoch, seq: message.oldest - 1 }, emit: message as unknown as ResetMessage, caughtUp: false };
  }
  if (typeof message.seq !== 'number') return none;
  if (cursor.seq !== undefined && message.seq <= cursor.seq) return none;
  return { cursor: { epoch: cursor.epoch, seq: message.seq }, emit: message as unknown as LiveEvent, caughtUp: false };
}

/** The stream's URL (ws: or wss:) for a node's base URL, resuming from `cursor` when it has a seq. */
export function eventsUrl(baseUrl: string, o: { prefix: string; kinds: readonly LiveEventKind[]; cursor: StreamCursor; token: string | undefined }): URL {
  const u = new URL(`${baseUrl.replace(/^http/, 'ws')}/api/v1/events`);
  u.searchParams.set('kinds', o.kinds.join(','));
  if (o.prefix !== '') u.searchParams.set('prefix', o.prefix);
  if (o.cursor.seq !== undefined) u.searchParams.set('since', String(o.cursor.seq));
  if (o.cursor.epoch !== undefined) u.searchParams.set('epoch', o.cursor.epoch);
  if (o.token !== undefined) u.searchParams.set('token', o.token);
  return u;
}

/** Reconnect delays: 250 ms doubling to 10 s, with jitter in [50%, 100%] so watchers spread out. */
export const BACKOFF = { initialMs: 250, maxMs: 10_000 } as const;

/** The delay before reconnect attempt `attempt` (0-based); `random` returns [0, 1). */
export function backoffMs(attempt: number, random: () => number, b: { initialMs: number; maxMs: number } = BACKOFF): number {
  const ceiling = Math.min(b.maxMs, b.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * (0.5 + random() / 2));
}

/** What a close code means: the token went bad (stop), or the connection may be retried. */
export function closeMeansUnauthorized(code: number): boolean {
  // 1008 policy violation; 4401/4403 mirror HTTP 401/403 for a token revoked mid-stream.
  return code === 1008 || code === 4401 || code === 4403;
}
