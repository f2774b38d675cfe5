import { ChorusError, ErrorCode } from '../core/errors.ts';
import { batchEntries, mergeBatches, validateBatch } from './batch.ts';
import type { StorageAdapter, StorageBatch } from './storage-adapter.ts';

/** Tunables of a GroupCommitter. */
export interface GroupCommitOptions {
  /**
   * How long the first batch of a group waits for company. 0 (default) merges what is
   * submitted in the same event-loop turn and adds no latency; while a commit is in flight,
   * new submits gather for the next one whatever this is.
   */
  readonly maxDelayMs?: number;
  /**
   * A group is committed at once when it reaches this many entries, and never grows past it
   * except by a single larger batch. 10,000 keeps one transaction well under 100 ms.
   */
  readonly maxEntries?: number;
}

/** Counters for metrics. */
export interface GroupCommitStats {
  /** Batches submitted. */
  readonly submits: number;
  /** Successful adapter.apply calls. */
  readonly commits: number;
  /** Journal entries in successful commits. */
  readonly journalEntries: number;
  /** Batches that joined a successful commit. */
  readonly committedBatches: number;
  /** Commits that failed (every batch in them was rejected). */
  readonly failedCommits: number;
  /** Batches refused by validation at submit. */
  readonly invalidBatches: number;
  /** Batches waiting or in flight now. */
  readonly pending: number;
}

interface Waiter {
  readonly batch: StorageBatch;
  readonly entries: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

type Timer = { kind: 'immediate'; handle: NodeJS.Immediate } | { kind: 'timeout'; handle: NodeJS.Timeout };

/**
 * Merges batches submitted close together into one `adapter.apply`, so many writes share one
 * fsync. Invariants:
 * 1. At most one apply is in flight; groups commit in submission order, so journal order holds.
 * 2. A submit's promise resolves only after the apply containing its batch has resolved, and
 *    rejects with that apply's error if it failed. Nothing is resolved twice or dropped.
 * 3. Invalid batches are refused at submit and never join a group, so one bad write cannot
 *    fail the writes it would have been merged with.
 */
export class GroupCommitter {
  private readonly maxDelayMs: number;
  private readonly maxEntries: number;
  private queue: Waiter[] = [];
  private queuedEntries = 0;
  private timer: Timer | undefined;
  private draining: Promise<void> | undefined;
  private closed = false;
  private counts = { submits: 0, commits: 0, journalEntries: 0, committedBatches: 0, failedCommits: 0, invalidBatches: 0, inFlight: 0 };

  constructor(
    private readonly adapter: StorageAdapter,
    options: GroupCommitOptions = {},
  ) {
    this.maxDelayMs = options.maxDelayMs ?? 0;
    this.maxEntries = options.maxEntries ?? 10_000;
    if (!Number.isFinite(this.maxDelayMs) || this.maxDelayMs < 0) throw new ChorusError(ErrorCode.InvalidConfig, `group commit maxDelayMs must be a non-negative number, got ${this.maxDelayMs}`);
    if (!Number.isSafeInteger(this.maxEntries) || this.maxEntries < 1) throw new ChorusError(ErrorCode.InvalidConfig, `group commit maxEntries must be a positive integer, got ${this.maxEntries}`);
  }

  /**
   * Queues `batch`; resolves once it is committed, rejects if its commit fails. The batch must
   * not be mutated until then.
   */
  submit(batch: StorageBatch): Promise<void> {
    if (this.closed) return Promise.reject(new ChorusError(ErrorCode.StorageClosed, `group committer over ${this.adapter.kind} storage is closed`));
    this.counts.submits++;
    try {
      validateBatch(batch);
    } catch (e) {
      this.counts.invalidBatches++;
      return Promise.reject(e);
    }
    return new Promise<void>((resolve, reject) => {
      const entries = batchEntries(batch);
      this.queue.push({ batch, entries, resolve, reject });
      this.queuedEntries += entries;
      this.schedule();
    });
  }

  /** Commits everything submitted so far now; resolves when it has been committed or has failed. */
  async flush(): Promise<void> {
    this.clearTimer();
    while (this.queue.length > 0 || this.draining !== undefined) {
      this.startDrain();
      await this.draining;
    }
  }

  /** Flushes, then closes the adapter. Later submits reject with CHORUS_STORAGE_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush();
    await this.adapter.close();
  }

  /** Counters since construction. */
  stats(): GroupCommitStats {
    const { inFlight, ...rest } = this.counts;
    return { ...rest, pending: this.queue.length + inFlight };
  }

  private schedule(): void {
    if (this.draining !== undefined) return; // the running drain picks the queue up
    if (this.queuedEntries >= this.maxEntries) {
      if (this.timer?.kind === 'timeout') this.clearTimer();
      if (this.timer === undefined) this.timer = { kind: 'immediate', handle: setImmediate(() => this.startDrain()) };
      return;
    }
    if (this.timer !== undefined) return;
    this.timer =
      this.maxDelayMs === 0
        ? { kind: 'immediate', handle: setImmediate(() => this.startDrain()) }
        : { kind: 'timeout', handle: setTimeout(() => this.startDrain(), this.maxDelayMs) };
  }

  private clearTimer(): void {
    if (this.timer?.kind === 'immediate') clearImmediate(this.timer.handle);
    else if (this.timer?.kind === 'timeout') clearTimeout(this.timer.handle);
    this.timer = undefined;
  }

  private startDrain(): void {
    this.clearTimer();
    if (this.draining !== undefined || this.queue.length === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.length > 0) this.schedule();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) await this.commit(this.takeGroup());
  }

  /** The longest prefix of the queue within maxEntries (at least one batch). */
  private takeGroup(): Waiter[] {
    let n = 0;
    let entries = 0;
    while (n < this.queue.length) {
      const w = this.queue[n] as Waiter;
      if (n > 0 && entries + w.entries > this.maxEntries) break;
      entries += w.entries;
      n++;
    }
    const group = this.queue.slice(0, n);
    this.queue = this.queue.slice(n);
    this.queuedEntries -= entries;
    return group;
  }

  private async commit(group: Waiter[]): Promise<void> {
    this.counts.inFlight = group.length;
    try {
      const merged = mergeBatches(group.map((w) => w.batch));
      await this.adapter.apply(merged);
      this.counts.commits++;
      this.counts.committedBatches += group.length;
      this.counts.journalEntries += merged.journal?.length ?? 0;
      for (const w of group) w.resolve();
    } catch (e) {
      this.counts.failedCommits++;
      for (const w of group) w.reject(e);
    } finally {
      this.counts.inFlight = 0;
    }
  }
}
