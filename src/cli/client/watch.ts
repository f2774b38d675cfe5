import WebSocket from 'ws';
import type { IncomingMessage } from 'node:http';
import type { LiveEvent, LiveEventKind, ResetMessage } from '../../api/events.ts';
import { ExitCode, exitCodeForStatus } from './exit-codes.ts';
import type { Target } from './target.ts';
import { advance, backoffMs, closeMeansUnauthorized, eventsUrl, type StreamCursor } from './watch-core.ts';

/** Options of `watchEvents`. */
export interface WatchOptions {
  /** The node; asked again at every reconnect, so a node restarted on another port (node.json) is found. */
  readonly target: () => Target;
  readonly prefix: string;
  readonly kinds: readonly LiveEventKind[];
  /** Replay events after this seq first (as far as the node's history reaches). */
  readonly since?: number;
  /** Ends the watch (Ctrl-C); the result is then 0. */
  readonly signal: AbortSignal;
  onEvent(e: LiveEvent): void;
  onReset(r: ResetMessage): void;
  /** Connection news for a person (stderr). */
  notice(text: string): void;
  readonly random?: () => number;
  /** Reconnect when nothing, not even the node's ping, arrives for this long. */
  readonly silenceMs?: number;
}

/** How one connection ended. */
type Outcome =
  | { kind: 'closed'; code: number; reason: string; caughtUp: boolean }
  | { kind: 'refused'; status: number; message: string }
  | { kind: 'failed'; message: string; caughtUp: boolean }
  | { kind: 'aborted' };

/** The node pings every 30 s; two and a half intervals of silence mean the connection is dead. */
const SILENCE_MS = 75_000;
/** Time allowed for the TCP connect and WebSocket handshake. */
const HANDSHAKE_MS = 10_000;

/**
 * Streams events until `signal` aborts, reconnecting with backoff and resuming from the last
 * seq seen (and the node's epoch, so a restarted node is noticed). Resolves to the exit code:
 * 0 when stopped, 4 when the first connection fails, 5 when the token is refused, 2 when the
 * node rejects the query, 1 for another refusal of the first connection.
 */
export async function watchEvents(o: WatchOptions): Promise<ExitCode> {
  let cursor: StreamCursor = { epoch: undefined, seq: o.since };
  let attempt = 0;
  let established = false;
  const random = o.random ?? Math.random;
  let last: Target | undefined;
  while (!o.signal.aborted) {
    const target = currentTarget(o, last);
    last = target;
    const url = target.url;
    const outcome = await connectOnce(o, target, cursor, (c) => (cursor = c), () => {
      // Said once per connection, on stderr: scripts (and tests) may wait for it.
      o.notice(`${established ? 'resumed' : 'watching'} ${url}: live after #${cursor.seq ?? 0}`);
      established = true;
    });
    if (outcome.kind === 'aborted' || o.signal.aborted) return ExitCode.Ok;
    if (outcome.kind === 'refused') {
      const code = exitCodeForStatus(outcome.status);
      o.notice(`the node refused the event stream: ${outcome.message}`);
      if (code === ExitCode.Unauthorized || code === ExitCode.Usage || !established) return code;
    } else {
      if (outcome.caughtUp) attempt = 0;
      if (!established) {
        o.notice(`cannot reach the node at ${url}: ${outcome.kind === 'failed' ? outcome.message : `closed (${outcome.code})`}`);
        return ExitCode.Unreachable;
      }
      if (outcome.kind === 'closed' && closeMeansUnauthorized(outcome.code)) {
        o.notice(`the node closed the stream: ${outcome.reason || outcome.code}`);
        return ExitCode.Unauthorized;
      }
    }
    // A slow-consumer drop (1013) is worth an immediate retry: the node is up, history is there.
    const delay = outcome.kind === 'closed' && outcome.code === 1013 ? 0 : backoffMs(attempt++, random);
    const why = outcome.kind === 'closed' ? `closed ${outcome.code}${outcome.reason ? ` (${outcome.reason})` : ''}` : outcome.kind === 'failed' ? outcome.message : `refused ${outcome.status}`;
    o.notice(`disconnected: ${why}; reconnecting in ${(delay / 1000).toFixed(1)} s${cursor.seq === undefined ? '' : ` from #${cursor.seq}`}`);
    await sleep(delay, o.signal);
  }
  return ExitCode.Ok;
}

/** The node to connect to now; if node.json is unreadable for a moment, the last one. */
function currentTarget(o: WatchOptions, last: Target | undefined): Target {
  try {
    return o.target();
  } catch (e) {
    if (last === undefined) throw e;
    return last;
  }
}

/** One connection: resolves when it ends, updating the cursor as messages arrive. */
function connectOnce(o: WatchOptions, target: Target, cursor: StreamCursor, save: (c: StreamCursor) => void, onCaughtUp: () => void): Promise<Outcome> {
  const url = eventsUrl(target.url, { prefix: o.prefix, kinds: o.kinds, cursor, token: target.token });
  const headers: Record<string, string> = target.token === undefined ? {} : { authorization: `Bearer ${target.token}` };
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: HANDSHAKE_MS });
    let current = cursor;
    let caughtUp = false;
    let settled = false;
    let silence: NodeJS.Timeout | undefined;
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(silence);
      o.signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const alive = (): void => {
      clearTimeout(silence);
      silence = setTimeout(() => ws.terminate(), o.silenceMs ?? SILENCE_MS);
    };
    const onAbort = (): void => {
      ws.close(1000, 'watch stopped');
      // A node that does not answer the close must not hold Ctrl-C up for ws's 30 s.
      setTimeout(() => ws.terminate(), 1000).unref();
      finish({ kind: 'aborted' });
    };
    o.signal.addEventListener('abort', onAbort);
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      readBody(res).then((text) => {
        finish({ kind: 'refused', status: res.statusCode ?? 0, message: refusalMessage(res.statusCode ?? 0, text) });
        ws.terminate();
      });
    });
    ws.on('open', alive);
    ws.on('ping', alive);
    ws.on('message', (data: WebSocket.RawData) => {
      alive();
      let message: unknown;
      try {
        message = JSON.parse(data.toString());
      } catch {
        return;
      }
      const step = advance(current, message);
      current = step.cursor;
      save(current);
      if (step.caughtUp && !caughtUp) {
        caughtUp = true;
        onCaughtUp();
      }
      if (step.emit === undefined) return;
      if (step.emit.kind === 'reset') o.onReset(step.emit);
      else o.onEvent(step.emit);
    });
    ws.on('error', (e: Error & { code?: string }) => finish({ kind: 'failed', message: e.code ?? e.message, caughtUp }));
    ws.on('close', (code: number, reason: Buffer) => finish({ kind: 'closed', code, reason: reason.toString(), caughtUp }));
  });
}

/** The body of a refused upgrade, at most 4 kB. */
function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (text.length < 4096) text += chunk;
    });
    res.on('end', () => resolve(text));
    res.on('error', () => resolve(text));
    res.on('close', () => resolve(text));
  });
}

function refusalMessage(status: number, body: string): string {
  try {
    const e = (JSON.parse(body) as { error?: { code?: string; message?: string } }).error;
    if (e?.message !== undefined) return `${e.message}${e.code === undefined ? '' : ` (${e.code})`}`;
  } catch {
    // not the API's error shape
  }
  return `HTTP ${status}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
