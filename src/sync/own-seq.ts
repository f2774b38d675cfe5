import type { StoreRecord } from '../store/record.ts';
import type { SyncContext } from './context.ts';

/**
 * Keeps our own sequence numbers unique after a restore. A node started from an older copy of
 * its data (a restored backup, a VM rollback, a new data directory with a fixed node id) does
 * not know how far its writes really went; its peers do. So local writes are not pushed until
 * the first peer digest arrives (`ctx.ownVerified`), and that digest decides: if the peer holds
 * our writes beyond what storage gave us, the writes made since the start move to fresh seqs
 * above them (same stamps: no register's winner changes) and the peer's copies are taken back
 * by anti-entropy, as any missing records are.
 *
 * Invariants:
 * 1. Until verified, none of our records leaves in a PUSH or an anti-entropy batch computed
 *    before the peer digest that verifies us was checked.
 * 2. After a peer digest showing seq N for us, our next write takes a seq above N.
 */
export class OwnSeq {
  readonly #ctx: SyncContext;
  /** Our highest seq when this process started. */
  readonly #start: number;
  readonly #movedListeners: ((moved: ReadonlyMap<number, StoreRecord>) => void)[] = [];

  constructor(ctx: SyncContext) {
    this.#ctx = ctx;
    this.#start = ctx.store.lastOwnSeq();
    ctx.ownVerified = false;
  }

  /** Calls `listener` with the records renumbered, by old seq. */
  onMoved(listener: (moved: ReadonlyMap<number, StoreRecord>) => void): void {
    this.#movedListeners.push(listener);
  }

  /** Reads how far a peer holds our writes from its store digest; call before using the message. */
  observe(peerDigest: Readonly<Record<string, number>> | null | undefined): void {
    if (peerDigest === null || peerDigest === undefined) return;
    const ctx = this.#ctx;
    const store = ctx.store;
    const held = peerDigest[ctx.nodeId] ?? 0;
    if (!ctx.ownVerified && held > this.#start && store.lastOwnSeq() > this.#start) {
      const moved = store.renumberOwn(this.#start, Math.max(held, store.lastOwnSeq()));
      ctx.counters.inc('ownWritesRenumbered', moved.size);
      for (const f of this.#movedListeners) f(moved);
    }
    if (held > store.lastOwnSeq()) {
      ctx.counters.inc('ownWritesRecovered', held - store.lastOwnSeq());
      store.raiseOwnSeqFloor(held);
    }
    ctx.ownVerified = true;
  }
}
