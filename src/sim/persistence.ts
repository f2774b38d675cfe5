import type { Random } from '../core/random.ts';
import type { MemberRecord } from '../membership/member.ts';
import { journalBatch } from '../storage/journal-batch.ts';
import type { StorageBatch } from '../storage/storage-adapter.ts';
import type { JournalEntry, Store, StoreRecord } from '../store/index.ts';
import type { Outbound } from '../sync/engine.ts';
import type { Oracle } from './oracle.ts';
import type { PendingBatch } from './sim-disk.ts';
import type { SimNode } from './sim-node.ts';

/** Simulated commit latency: uniform in [1, 5) virtual ms (an fsync on an SSD). */
const COMMIT_MIN_MS = 1;
const COMMIT_JITTER_MS = 4;

/** What the storage pipeline needs from the simulation. */
export interface PersistenceHost {
  now(): number;
  readonly random: Random;
  readonly oracle: Oracle;
  /** Queues the end of `node`'s commit in flight at virtual time `atMs` (then call `finish`). */
  scheduleCommit(node: SimNode, atMs: number): void;
  /** Sends what the engine returned after a commit. */
  dispatch(node: SimNode, out: readonly Outbound[]): void;
  /** Stops `node` at once (a failed commit is fail-stop: its uncommitted state is gone). */
  failStop(node: SimNode): void;
}

/**
 * The nodes' storage pipeline, as the runtime runs it: the journal sink turns every store change
 * into a batch (journal, moved watermarks, lastActiveMs) with our own watermark at that moment;
 * batches commit in groups after a simulated latency; on commit the client writes in them are
 * acknowledged, our own seq is marked durable, and only then do pushes and STORED leave.
 */
export class Persistence {
  /** Nodes whose store changed since the last `changed.clear()` (their journal sink ran). */
  readonly changed = new Set<SimNode>();
  /** The batch the journal sink made during the client write in progress. */
  private writeBatch: PendingBatch | undefined;

  constructor(private readonly host: PersistenceHost) {}

  /** The journal sink of `node`'s current life. */
  persist(node: SimNode, store: Store, journal: readonly JournalEntry[]): void {
    this.changed.add(node);
    this.writeBatch = this.submit(node, journalBatch(store, journal, node.clock.wall.now()), store.lastOwnSeq());
  }

  /** Stores a member record change, as the runtime does on every member event. */
  member(node: SimNode, nodeId: MemberRecord['nodeId'], record: MemberRecord | undefined): void {
    this.submit(node, record === undefined ? { members: { remove: [nodeId] } } : { members: { put: [record] } }, undefined);
  }

  /** Runs a client write; its records are acknowledged when the batch the write made commits. */
  write(run: () => readonly StoreRecord[]): readonly StoreRecord[] {
    this.writeBatch = undefined;
    const records = run();
    this.host.oracle.created(records);
    const batch = this.writeBatch as PendingBatch | undefined;
    if (batch !== undefined) batch.acks.push(...records);
    else this.host.oracle.ack(records);
    this.writeBatch = undefined;
    return records;
  }

  /** The commit in flight of `node` finished: applied, or rejected whole while its disk fails. */
  finish(node: SimNode): void {
    const life = node.life;
    if (life === undefined) return;
    const { ok, group, more } = node.disk.finishCommit();
    // A failed commit is fail-stop: the node stops with its uncommitted state (nothing of it was
    // acknowledged, pushed or confirmed) and starts again from what storage holds.
    if (!ok) return this.host.failStop(node);
    this.committed(life.store, group);
    this.host.dispatch(node, [...life.engine.flush(this.host.now()), ...life.engine.confirmStored(this.host.now())]);
    if (more) this.begin(node);
  }

  /** A graceful stop waits for its commits: everything pending commits now (unless the disk fails). */
  drain(node: SimNode, store: Store): void {
    this.committed(store, node.disk.drain());
    if (!node.disk.failing) node.disk.setMeta('lastActiveMs', node.clock.wall.now());
  }

  private submit(node: SimNode, batch: StorageBatch, ownSeq: number | undefined): PendingBatch {
    const { pending, start } = node.disk.submit(batch, ownSeq);
    if (start) this.begin(node);
    return pending;
  }

  private begin(node: SimNode): void {
    if (node.disk.beginCommit()) this.host.scheduleCommit(node, this.host.now() + COMMIT_MIN_MS + this.host.random.next() * COMMIT_JITTER_MS);
  }

  private committed(store: Store, group: readonly PendingBatch[]): void {
    let own = 0;
    for (const p of group) {
      this.host.oracle.ack(p.acks);
      if (p.ownSeq !== undefined) own = Math.max(own, p.ownSeq);
    }
    store.markDurable(own);
  }
}
