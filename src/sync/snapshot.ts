import type { Timestamp } from '../core/hlc.ts';
import { joinCollected, NOTHING_COLLECTED, type Collected } from '../store/collected.ts';
import type { NodeId } from '../core/ids.ts';
import { recordToTuple } from '../store/record-codec.ts';
import type { Cover, Digest } from '../store/store.ts';
import type { SyncContext } from './context.ts';
import { MessageType, type MessageBody, type SnapshotChunkMessage, type SnapshotEndMessage, type SnapshotReqMessage } from './messages.ts';

/** Per origin, the lower of two digests' watermarks (an origin missing from either is 0). */
export function minDigest(a: Digest, b: Digest): Digest {
  const out: Digest = {};
  for (const origin of Object.keys(a)) {
    const x = a[origin] as number;
    const y = b[origin];
    if (y !== undefined && Math.min(x, y) > 0) out[origin] = Math.min(x, y);
  }
  return out;
}

/** Covers `{ origin, from: 0, to }` claiming everything up to each watermark. */
export function coversFrom(d: Digest): Cover[] {
  return Object.entries(d).map(([origin, to]) => ({ origin: origin as NodeId, from: 0, to }));
}

interface Session {
  readonly start: Digest;
  lastAt: number;
}

/**
 * Serves snapshots, one chunk per SNAPSHOT_REQ (the requester paces the stream). A session
 * remembers the digest taken when it opened, before any chunk was read: covers claiming it
 * are true for every object, whichever chunk it travelled in.
 */
export class SnapshotServer {
  readonly #ctx: SyncContext;
  readonly #sessions = new Map<NodeId, Session>();

  constructor(ctx: SyncContext) {
    this.#ctx = ctx;
    ctx.onPeerGone((id) => this.#sessions.delete(id));
  }

  /** Sends the chunk after the requested cursor, and SNAPSHOT_END after the last one. */
  onReq(address: string, m: SnapshotReqMessage, now: number): void {
    const ctx = this.#ctx;
    let session = m.cursor === null ? undefined : this.#sessions.get(m.from);
    const opened = session === undefined;
    if (session === undefined) {
      session = { start: ctx.store.servableDigest(), lastAt: now };
      this.#sessions.set(m.from, session);
    }
    session.lastAt = now;
    const chunk = ctx.store.snapshotChunk(m.cursor, ctx.limits);
    const records = chunk.records.map(recordToTuple);
    const body: MessageBody = opened
      ? { t: MessageType.SNAPSHOT_CHUNK, records, cursor: chunk.cursor, start: session.start, gc: ctx.store.collectedState() }
      : { t: MessageType.SNAPSHOT_CHUNK, records, cursor: chunk.cursor };
    ctx.sendTo(address, body, 'stream');
    ctx.counters.inc('snapshotChunksServed');
    if (chunk.cursor !== null) return;
    ctx.sendTo(address, { t: MessageType.SNAPSHOT_END, digest: session.start }, 'stream');
    this.#sessions.delete(m.from);
  }

  /** Forgets sessions idle for ten snapshot timeouts (their requester moved on). */
  tick(now: number): void {
    const idle = 10 * this.#ctx.config.snapshotTimeoutMs;
    for (const [id, s] of this.#sessions) if (now - s.lastAt > idle) this.#sessions.delete(id);
  }
}

interface Stream {
  server: NodeId;
  cursor: string | null;
  lastAt: number;
  /** The lowest session-start digest seen, over every server used. */
  cover: Digest | null;
  /** A chunk had records the store refused: its origins' covers cannot be trusted. */
  refused: boolean;
  /** The last chunk (cursor null) arrived; SNAPSHOT_END is next. */
  last: boolean;
  /** When verifying (see Bootstrap): registers the snapshot or another peer confirmed, and when the stream began. */
  seen: Set<string> | null;
  startTs: Timestamp;
}

const registerKey = (objectId: unknown, field: unknown): string => `${String(objectId)}\u0000${String(field)}`;

/**
 * Bootstraps an empty or long-absent replica from a snapshot stream, resuming from the
 * cursor with another peer when the server goes away or stalls. Reads stay local meanwhile.
 *
 * A replica that learns a peer forgot deletions it never saw (`markStale`, from the peer's
 * collected floors) streams a snapshot in *verifying* mode: at the end, every record it holds
 * that neither the snapshot nor any peer confirmed meanwhile is dropped when the server had
 * seen it, or when it is no newer than the highest collection horizon heard (it may belong to
 * a forgotten deletion: dropped visibly, as a 'records-dropped' event). Until then it sends
 * peers no records and takes no covers from them (see AntiEntropy).
 *
 * Invariants:
 * 1. Chunks are accepted only from the current server; the cursor only moves forward.
 * 2. Covers at the end claim no more than every server used held when its session opened
 *    (the minimum of their start digests), and nothing when a record was refused.
 * 3. A verifying stream records every register confirmed since it began; records are only
 *    dropped by `Store.reconcileStale`, which leaves every watermark as it was.
 */
export class Bootstrap {
  readonly #ctx: SyncContext;
  #needed: boolean;
  #verify: boolean;
  #horizon: Collected = NOTHING_COLLECTED;
  #stream: Stream | null = null;

  /**
   * `needed`: the store is empty or stale. `stale`: it holds data older than the tombstone TTL,
   * so the snapshot verifies it (see the class comment).
   */
  constructor(ctx: SyncContext, needed: boolean, stale = false) {
    this.#ctx = ctx;
    this.#needed = needed;
    this.#verify = stale;
    ctx.onPeerGone((id) => {
      if (this.#stream?.server === id) this.#stream.lastAt = Number.NEGATIVE_INFINITY;
    });
    ctx.onMerged((records) => {
      const seen = this.#stream?.seen;
      if (seen !== null && seen !== undefined) for (const r of records) seen.add(registerKey(r.objectId, r.field));
    });
  }

  /** Whether a snapshot is wanted and not yet finished. */
  get needed(): boolean {
    return this.#needed;
  }

  /** Whether a snapshot stream is in progress. */
  get running(): boolean {
    return this.#stream !== null;
  }

  /** When the stream times out. */
  wakeAt(): number {
    return this.#stream === null ? Number.POSITIVE_INFINITY : this.#stream.lastAt + this.#ctx.config.snapshotTimeoutMs;
  }

  /**
   * `server` forgot deletions we never saw (`collected` is its state): verify our records
   * against its snapshot, starting now (a plain stream already running starts over verifying).
   */
  markStale(server: NodeId, collected: Collected, now: number): void {
    this.#horizon = joinCollected(this.#horizon, collected);
    this.#needed = true;
    if (this.#verify && this.#stream !== null) return;
    this.#verify = true;
    this.#ctx.counters.inc('staleDetected');
    if (this.#stream !== null) {
      this.#stream = null;
      this.#ctx.counters.inc('snapshotRestarts');
    }
    this.start(server, now);
  }

  /** Starts streaming from `server` if a snapshot is needed and none is running. */
  start(server: NodeId, now: number): void {
    if (!this.#needed || this.#stream !== null) return;
    this.#stream = { server, cursor: null, lastAt: now, cover: null, refused: false, last: false, seen: this.#verify ? new Set() : null, startTs: this.#ctx.store.hlc.peek() };
    this.#ctx.counters.inc('bootstraps');
    this.#ctx.events.push({ type: 'bootstrap', phase: 'started', from: server });
    this.#ctx.send(server, { t: MessageType.SNAPSHOT_REQ, cursor: null }, 'stream');
  }

  /**
   * Resumes a stalled stream from its cursor, with another alive peer when there is one.
   * Returns the server when the stream finished instead: the last chunk had arrived and only
   * SNAPSHOT_END was missing, whose digest the session's first chunk already carried.
   */
  tick(now: number): NodeId | undefined {
    const s = this.#stream;
    if (s === null || now < s.lastAt + this.#ctx.config.snapshotTimeoutMs) return undefined;
    if (s.last && s.cover !== null) return this.#finish(s, s.cover);
    const ctx = this.#ctx;
    const next = ctx.peers.pick(ctx.random, s.server) ?? (ctx.peers.has(s.server) ? s.server : undefined);
    s.lastAt = now;
    if (next === undefined) return undefined;
    s.server = next;
    s.last = false;
    ctx.counters.inc('snapshotResumes');
    ctx.send(next, { t: MessageType.SNAPSHOT_REQ, cursor: s.cursor }, 'stream');
    return undefined;
  }

  /** Merges a chunk and asks for the next one. */
  onChunk(address: string, m: SnapshotChunkMessage, now: number): void {
    const s = this.#stream;
    const ctx = this.#ctx;
    if (s === null || m.from !== s.server || s.last) return ctx.drop('stale-snapshot', address);
    if (m.start !== undefined) s.cover = s.cover === null ? m.start : minDigest(s.cover, m.start);
    if (m.gc !== undefined) this.#horizon = joinCollected(this.#horizon, m.gc);
    const result = ctx.merge(m.records);
    if (Object.keys(result.rejected).length > 0) s.refused = true;
    if (s.seen !== null) for (const t of m.records) s.seen.add(registerKey((t as unknown[])[0], (t as unknown[])[1]));
    ctx.counters.inc('snapshotChunksReceived');
    s.lastAt = now;
    s.cursor = m.cursor;
    s.last = m.cursor === null;
    if (m.cursor !== null) ctx.send(s.server, { t: MessageType.SNAPSHOT_REQ, cursor: m.cursor }, 'stream');
  }

  /** Finishes: merges the covers and returns the server (the caller switches to deltas with it). */
  onEnd(address: string, m: SnapshotEndMessage): NodeId | undefined {
    const s = this.#stream;
    const ctx = this.#ctx;
    if (s === null || m.from !== s.server || !s.last) {
      ctx.drop('stale-snapshot', address);
      return undefined;
    }
    return this.#finish(s, s.cover === null ? m.digest : minDigest(s.cover, m.digest));
  }

  #finish(s: Stream, cover: Digest): NodeId {
    const ctx = this.#ctx;
    if (s.seen !== null && !s.refused) {
      const seen = s.seen;
      const horizon = this.#horizon.horizon;
      const result = ctx.store.reconcileStale((r) => seen.has(registerKey(r.objectId, r.field)), cover, horizon, s.startTs);
      ctx.counters.inc('supersededRecordsDropped', result.journal.length - result.stale.length);
      if (result.stale.length > 0) {
        ctx.counters.inc('staleRecordsDropped', result.stale.length);
        ctx.events.push({ type: 'records-dropped', reason: 'stale', records: result.stale, horizon });
      }
      if (result.changes.length > 0) ctx.events.push({ type: 'change', changes: result.changes, origin: 'remote' });
    }
    if (!s.refused) {
      // Covers first claim the server's collected ranges: its floors become ours (adopted with
      // the covers, before the journal of the merge carries them to storage).
      ctx.store.adoptCollected(this.#horizon);
      ctx.merge([], coversFrom(cover));
    }
    this.#stream = null;
    this.#needed = false;
    this.#verify = false;
    ctx.events.push({ type: 'bootstrap', phase: 'done', from: s.server });
    return s.server;
  }
}
