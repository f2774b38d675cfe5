import { measureJson } from '../core/json.ts';
import { recordToTuple } from '../store/record-codec.ts';
import { recordBytes, TOMBSTONE, type StoreRecord } from '../store/record.ts';
import type { SyncContext } from './context.ts';
import { MessageType, type PushMessage, type RecordTuple } from './messages.ts';

/** Splits records into batches of at most `maxRecords` and about `maxBytes` (a lone larger record goes alone). */
export function splitBatches<T>(items: readonly T[], sizeOf: (item: T) => number, maxRecords: number, maxBytes: number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (cur.length > 0 && (cur.length >= maxRecords || bytes + size > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(item);
    bytes += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * Eager push: local writes are queued and leave in one coalesced PUSH per flush (split only
 * when over the batch budget) to every alive peer in a small mesh, or to `pushFanout` random
 * peers in a large one, each of which forwards what was new to it once (hops 1).
 *
 * Invariants:
 * 1. A PUSH with hops ≥ pushMaxHops (default 1) is never forwarded; a forward carries only
 *    records that were new to the forwarder, so a record is forwarded at most once per node.
 * 2. With eagerPush off, queued writes are discarded at flush: anti-entropy carries them.
 * 3. A write leaves only once committed locally (seq ≤ Store.durableOwnSeq) and after OwnSeq
 *    verified our numbering; queued writes are in seq order, so the committed ones lead.
 */
export class Pusher {
  readonly #ctx: SyncContext;
  #pending: StoreRecord[] = [];

  constructor(ctx: SyncContext) {
    this.#ctx = ctx;
  }

  /** Whether local writes wait for a flush. */
  get pending(): boolean {
    return this.#pending.length > 0;
  }

  /** Queues records of a local write. */
  queue(records: readonly StoreRecord[]): void {
    for (const r of records) this.#pending.push(r);
  }

  /** Whether a flush would send: a queued write is committed (Store.durableOwnSeq) and our seq numbering is verified (OwnSeq). */
  get ready(): boolean {
    const first = this.#pending[0];
    return first !== undefined && this.#ctx.ownVerified && first.seq <= this.#ctx.store.durableOwnSeq();
  }

  /** Replaces queued records that OwnSeq moved to new seqs. */
  renumbered(moved: ReadonlyMap<number, StoreRecord>): void {
    const self = this.#ctx.nodeId;
    this.#pending = this.#pending.map((r) => (r.origin === self ? (moved.get(r.seq) ?? r) : r));
  }

  /**
   * Pushes every queued write that storage has committed; the rest wait for the commit (a
   * crash must never leave a peer holding a seq we would reuse), and all wait while our seq
   * numbering is unverified.
   */
  flush(): void {
    if (!this.#ctx.ownVerified) return;
    const durable = this.#ctx.store.durableOwnSeq();
    const cut = this.#pending.findIndex((r) => r.seq > durable);
    const records = cut < 0 ? this.#pending : this.#pending.slice(0, cut);
    this.#pending = cut < 0 ? [] : this.#pending.slice(cut);
    const ctx = this.#ctx;
    if (records.length === 0 || !ctx.config.eagerPush || ctx.peers.size === 0) return;
    const large = ctx.peers.size + 1 > ctx.config.fullFanoutMaxMembers;
    const targets = large ? ctx.peers.sample(ctx.random, ctx.config.pushFanout) : ctx.peers.list();
    const sizeOf = (r: StoreRecord): number => recordBytes(r.objectId, r.field, r.value === TOMBSTONE ? 1 : measureJson(r.value, { maxDepth: Infinity, maxBytes: Infinity }));
    for (const batch of splitBatches(records, sizeOf, ctx.config.maxBatchRecords, ctx.config.maxBatchBytes)) {
      const tuples = batch.map(recordToTuple);
      for (const peer of targets) this.#send(peer, tuples, 0);
    }
  }

  #send(peer: PushMessage['from'], records: readonly RecordTuple[], hops: number): void {
    if (this.#ctx.send(peer, { t: MessageType.PUSH, records, hops }, 'packet')) this.#ctx.counters.inc(hops === 0 ? 'pushes' : 'forwards');
  }

  /** Merges a PUSH; in a large mesh its new records go on to random others while hops remain. */
  onPush(m: PushMessage): void {
    const ctx = this.#ctx;
    const result = ctx.merge(m.records);
    if (m.hops >= ctx.config.pushMaxHops || result.records.length === 0 || ctx.peers.size + 1 <= ctx.config.fullFanoutMaxMembers) return;
    const tuples = result.records.map(recordToTuple);
    for (const peer of ctx.peers.sample(ctx.random, ctx.config.pushFanout, m.from)) this.#send(peer, tuples, m.hops + 1);
  }
}
