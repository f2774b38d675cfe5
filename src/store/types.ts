import type { Clock } from '../core/clock.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { NodeId, ObjectId } from '../core/ids.ts';
import type { ObjectChange } from './changes.ts';
import type { StoreOptions } from './limits.ts';
import type { StoreRecord } from './record.ts';

/** `{ origin: highest seq held without gaps }`. */
export type Digest = Record<string, number>;

/** A claim that a batch holds every live record of `origin` with seq in (from, to]. */
export interface Cover {
  readonly origin: NodeId;
  readonly from: number;
  readonly to: number;
}

/** What `deltasFor` returns: records in seq order per origin, and the ranges they complete. */
export interface DeltaBatch {
  readonly records: StoreRecord[];
  readonly covers: Cover[];
  /** False when the batch was cut by its limits and another round is needed. */
  readonly complete: boolean;
}

/** One step a durable copy must take to mirror the store: hold a record, or drop a register. */
export type JournalEntry =
  | { readonly op: 'put'; readonly record: StoreRecord }
  | { readonly op: 'drop'; readonly objectId: ObjectId; readonly field: string };

/** What a local write or a merge did. */
export interface WriteResult {
  /** Records to replicate (local writes) or that were applied (merges). */
  readonly records: StoreRecord[];
  /** Visible changes, one entry per object touched. */
  readonly changes: ObjectChange[];
  /**
   * What storage must do, in order, to hold exactly what the store holds: a 'put' replaces the
   * register (objectId, field); a 'drop' removes a register cleared without replacement.
   */
  readonly journal: JournalEntry[];
}

/** Outcome of a merge, with counts for metrics. */
export interface MergeResult extends WriteResult {
  /** Records that lost to what was already held (duplicates and superseded writes). */
  readonly superseded: number;
  /** Records refused, by error code. */
  readonly rejected: Partial<Record<ErrorCode, number>>;
  /** Records refused because another record already holds their (origin, seq). */
  readonly conflicts: StoreRecord[];
}

/** One snapshot chunk: whole objects in id order and the cursor to resume after them. */
export interface SnapshotChunk {
  readonly records: StoreRecord[];
  /** The last object id included, or null when the snapshot is finished. */
  readonly cursor: string | null;
}

/** Counters describing a replica's contents. */
export interface StoreStats {
  readonly objects: number;
  readonly liveFields: number;
  readonly tombstones: number;
  readonly encodedBytes: number;
}

/** Constructor arguments of a Store. */
export interface StoreInit {
  readonly nodeId: NodeId;
  readonly clock: Clock;
  /** A clock that never steps, so the HLC rides out wall-clock steps (see HybridClock); default: none. */
  readonly monotonic?: Clock;
  readonly options?: Partial<StoreOptions>;
}
