import type { NodeId } from '../core/ids.ts';
import type { StoreRecord } from '../store/record.ts';
import type { SyncContext } from './context.ts';

/** Peers whose digests verify our numbering after a start (fewer when the mesh is smaller). */
export const VERIFY_PEERS = 3;

/**
 * Keeps our own sequence numbers unique after a restore. A node started from an older copy of
 * its data (a restored backup, a VM rollback, a new data directory with a fixed node id) does
 * not know how far its writes really went; its peers do. So after a start our new records stay
 * here (no push, not in anyone's deltas or snapshots: Store.holdOwn) until digests from
 * VERIFY_PEERS peers (or every peer, when fewer; or whatever arrived within one sync interval)
 * say how far they hold our writes. Then, if they hold more than our storage gave us, the writes
 * made since the start move to fresh seqs above all of it (same stamps: no register's winner
 * changes) and anti-entropy brings the peers' copies back, as any missing records.
 *
 * Invariants:
 * 1. Until verified, none of our records stamped since the start leaves this node.
 * 2. After verification, our next write takes a seq above every seq of ours a peer reported.
 */
export class OwnSeq {
  readonly #ctx: SyncContext;
  /** Our highest seq when this process started. */
  readonly #start: number;
  readonly #seen = new Set<NodeId>();
  #highest = 0;
  #firstAt: number | undefined;
  #asked = false;
  readonly #movedListeners: ((moved: ReadonlyMap<number, StoreRecord>) => void)[] = [];
  readonly #ask: (peer: NodeId) => void;

  /** `ask` opens an anti-entropy exchange with a peer, for its digest. */
  constructor(ctx: SyncContext, ask: (peer: NodeId) => void) {
    this.#ctx = ctx;
    this.#ask = ask;
    this.#start = ctx.store.lastOwnSeq();
    ctx.ownVerified = false;
    ctx.store.holdOwn();
  }

  /** Calls `listener` with the records renumbered, by old seq. */
  onMoved(listener: (moved: ReadonlyMap<number, StoreRecord>) => void): void {
    this.#movedListeners.push(listener);
  }

  /** When verification is due at the latest (Infinity when verified or nothing heard yet). */
  wakeAt(): number {
    return this.#ctx.ownVerified || this.#firstAt === undefined ? Number.POSITIVE_INFINITY : this.#firstAt + this.#ctx.config.syncIntervalMs;
  }

  /** Verifies with what arrived when the wait is over. */
  tick(now: number): void {
    if (now >= this.wakeAt()) this.#verify();
  }

  /**
   * Reads how far peer `from` holds our writes from its store digest; call before using the
   * message. A null digest (the peer is bootstrapping: it holds nothing of ours yet) counts as
   * an answer holding nothing.
   */
  observe(from: NodeId, peerDigest: Readonly<Record<string, number>> | null | undefined, now: number): void {
    if (peerDigest === undefined) return;
    const ctx = this.#ctx;
    const held = peerDigest === null ? 0 : (peerDigest[ctx.nodeId] ?? 0);
    if (ctx.ownVerified) {
      if (held > ctx.store.lastOwnSeq()) {
        ctx.counters.inc('ownWritesRecovered', held - ctx.store.lastOwnSeq());
        ctx.store.raiseOwnSeqFloor(held);
      }
      return;
    }
    this.#seen.add(from);
    this.#highest = Math.max(this.#highest, held);
    this.#firstAt ??= now;
    const wanted = Math.min(VERIFY_PEERS, ctx.peers.size);
    if (this.#seen.size >= wanted) return this.#verify();
    if (this.#asked) return;
    this.#asked = true;
    for (const peer of ctx.peers.list().filter((p) => !this.#seen.has(p)).slice(0, wanted - this.#seen.size)) this.#ask(peer);
  }

  #verify(): void {
    const ctx = this.#ctx;
    const store = ctx.store;
    const issued = store.ownIssuedSeqs();
    if (this.#highest > this.#start && issued.length > 0) {
      const moved = store.renumberOwn(issued, Math.max(this.#highest, store.lastOwnSeq()));
      ctx.counters.inc('ownWritesRenumbered', moved.size);
      for (const f of this.#movedListeners) f(moved);
    }
    if (this.#highest > store.lastOwnSeq()) {
      ctx.counters.inc('ownWritesRecovered', this.#highest - store.lastOwnSeq());
      store.raiseOwnSeqFloor(this.#highest);
    }
    store.releaseOwn();
    ctx.ownVerified = true;
  }
}
