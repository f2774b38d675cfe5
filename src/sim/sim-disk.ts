import type { NodeId } from '../core/ids.ts';
import type { MemberRecord } from '../membership/member.ts';
import type { StorageBatch } from '../storage/storage-adapter.ts';
import type { StoreRecord } from '../store/index.ts';

/** What a simulated node's storage holds durably: the shape MemoryStorage keeps. */
export interface DiskImage {
  readonly records: ReadonlyMap<string, StoreRecord>;
  readonly watermarks: ReadonlyMap<string, number>;
  readonly meta: ReadonlyMap<string, unknown>;
  readonly members: ReadonlyMap<string, MemberRecord>;
  /** See SimDisk.committedOwnSeq. */
  readonly ownCommitted: number;
}

/** A batch waiting for its commit, with what its commit means to the node. */
export interface PendingBatch {
  readonly batch: StorageBatch;
  /** Our last own seq (Store.lastOwnSeq) when the batch was made: markDurable(ownSeq) once it commits; undefined for member-only batches. */
  readonly ownSeq: number | undefined;
  /** Records of the client write this batch carries: acknowledged when it commits. */
  readonly acks: StoreRecord[];
}

/** What the state looks like for a restart: `Store.load` arguments, remembered members and meta. */
export interface LoadedState {
  readonly records: StoreRecord[];
  readonly digest: Record<string, number>;
  readonly members: MemberRecord[];
}

// objectId and field cannot contain control characters, so NUL separates them unambiguously.
const registerKey = (objectId: string, field: string): string => `${objectId}\u0000${field}`;

/**
 * A simulated node's storage: a durable image (the shape MemoryStorage keeps, applied the same
 * way) and the group-commit pipeline in front of it. Batches submitted while a commit is in
 * flight gather into the next group, as GroupCommitter does; groups commit in submission order.
 * A crash loses every batch not yet committed; a failing disk rejects whole groups (nothing
 * partial is stored). Synchronous, so the simulator can commit at a virtual instant it chooses.
 */
export class SimDisk {
  private records = new Map<string, StoreRecord>();
  private watermarks = new Map<string, number>();
  private meta = new Map<string, unknown>();
  private members = new Map<string, MemberRecord>();
  private waiting: PendingBatch[] = [];
  private inFlight: PendingBatch[] | undefined;
  /** While true, every commit fails (a full disk, an I/O error). */
  failing = false;
  /** The highest own seq (PendingBatch.ownSeq) of a committed batch: what markDurable was told. */
  private ownCommitted = 0;
  /** Groups committed and groups rejected so far. */
  commits = 0;
  failedCommits = 0;

  /** Queues `batch`; returns the pending entry and whether a commit must be scheduled (none in flight). */
  submit(batch: StorageBatch, ownSeq: number | undefined): { pending: PendingBatch; start: boolean } {
    const pending: PendingBatch = { batch, ownSeq, acks: [] };
    this.waiting.push(pending);
    return { pending, start: this.inFlight === undefined };
  }

  /** Moves the waiting batches into a commit in flight; false when there is nothing to commit or one is in flight. */
  beginCommit(): boolean {
    if (this.inFlight !== undefined || this.waiting.length === 0) return false;
    this.inFlight = this.waiting;
    this.waiting = [];
    return true;
  }

  /**
   * Finishes the commit in flight: applied whole, or (while `failing`) rejected whole. Returns
   * its batches and whether they committed, and whether another group is waiting.
   */
  finishCommit(): { ok: boolean; group: PendingBatch[]; more: boolean } {
    const group = this.inFlight ?? [];
    this.inFlight = undefined;
    const ok = !this.failing;
    if (ok) {
      for (const p of group) this.apply(p);
      this.commits++;
    } else this.failedCommits++;
    return { ok, group, more: this.waiting.length > 0 };
  }

  /** Commits everything pending at once (a graceful stop waits for its commits); returns the batches that committed. */
  drain(): PendingBatch[] {
    const all = [...(this.inFlight ?? []), ...this.waiting];
    this.inFlight = undefined;
    this.waiting = [];
    if (this.failing || all.length === 0) return [];
    for (const p of all) this.apply(p);
    this.commits++;
    return all;
  }

  /** A crash: every batch not committed is gone. Returns them. */
  crash(): PendingBatch[] {
    const lost = [...(this.inFlight ?? []), ...this.waiting];
    this.inFlight = undefined;
    this.waiting = [];
    return lost;
  }

  /** A setting written outside the commit pipeline (the runtime writes its generation file synchronously). */
  setMeta(key: string, value: unknown): void {
    this.meta.set(key, value);
  }

  /** A meta value, or undefined. */
  getMeta(key: string): unknown {
    return this.meta.get(key);
  }

  /** Everything durable, as `SqliteStorage.load` returns it. */
  load(): LoadedState {
    const byRegister = (a: StoreRecord, b: StoreRecord): number => (a.objectId !== b.objectId ? (a.objectId < b.objectId ? -1 : 1) : a.field < b.field ? -1 : a.field > b.field ? 1 : 0);
    return {
      records: [...this.records.values()].sort(byRegister),
      digest: Object.fromEntries([...this.watermarks].sort(([a], [b]) => (a < b ? -1 : 1))),
      members: [...this.members.values()].sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1)),
    };
  }

  /** The highest own seq committed (every own record up to it is durable, whatever the stored watermark says after a renumbering). */
  committedOwnSeq(): number {
    return this.ownCommitted;
  }

  /** The watermark stored for `origin` (0 when none). */
  watermark(origin: NodeId): number {
    return this.watermarks.get(origin) ?? 0;
  }

  /** A copy of the durable image (a backup, a VM snapshot). */
  image(): DiskImage {
    return { records: new Map(this.records), watermarks: new Map(this.watermarks), meta: new Map(this.meta), members: new Map(this.members), ownCommitted: this.ownCommitted };
  }

  /** Replaces the durable image with `image` (a restored backup); pending batches are dropped. */
  restore(image: DiskImage): void {
    this.crash();
    this.records = new Map(image.records);
    this.watermarks = new Map(image.watermarks);
    this.meta = new Map(image.meta);
    this.members = new Map(image.members);
    this.ownCommitted = image.ownCommitted;
  }

  /** Applies one batch as MemoryStorage.apply does (journal, watermarks set then raised, meta, members). */
  private apply(pending: PendingBatch): void {
    const batch = pending.batch;
    if (pending.ownSeq !== undefined && pending.ownSeq > this.ownCommitted) this.ownCommitted = pending.ownSeq;
    for (const e of batch.journal ?? []) {
      if (e.op === 'put') this.records.set(registerKey(e.record.objectId, e.record.field), e.record);
      else this.records.delete(registerKey(e.objectId, e.field));
    }
    for (const [origin, seq] of Object.entries(batch.setWatermarks ?? {})) this.watermarks.set(origin, seq);
    for (const [origin, seq] of Object.entries(batch.watermarks ?? {})) this.watermarks.set(origin, Math.max(seq, this.watermarks.get(origin) ?? 0));
    for (const [key, value] of Object.entries(batch.meta ?? {})) {
      if (value === undefined) this.meta.delete(key);
      else this.meta.set(key, value);
    }
    for (const m of batch.members?.put ?? []) this.members.set(m.nodeId, m);
    for (const id of batch.members?.remove ?? []) this.members.delete(id);
  }
}
