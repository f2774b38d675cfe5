import type { NodeId } from '../core/ids.ts';
import type { MemberRecord } from '../membership/member.ts';
import type { JournalEntry } from '../store/store.ts';

/** Everything an adapter holds, as `load()` returns it for `Store.load` and the membership restore. */
export interface StoredState {
  /** Record-shaped objects in (objectId, field) order, TOMBSTONE for deletions; `Store.load` validates them. */
  records: unknown[];
  /** Per-origin watermarks: the digest to pass to `Store.load`. */
  digest: Record<string, number>;
  members: MemberRecord[];
  /** Rows left out because they could not be decoded or were not valid (0 for a clean store). */
  skipped?: number;
}

/** One atomic change to durable state. Parts are applied in the order listed here. */
export interface StorageBatch {
  /** Applied in order: a put replaces the register (objectId, field); a drop deletes it. */
  journal?: readonly JournalEntry[];
  /**
   * Per-origin watermarks to set exactly, applied before `watermarks`: the one way down, for
   * our own origin after a restore moved our writes (Store.renumberOwn).
   */
  setWatermarks?: Readonly<Record<string, number>>;
  /** Per-origin digest entries to upsert; they only ever increase (a lower one never lowers a stored one). */
  watermarks?: Readonly<Record<string, number>>;
  /** Small JSON-able settings (e.g. lastActiveMs); a value of undefined deletes the key. */
  meta?: Readonly<Record<string, unknown>>;
  /** Member records to store (replacing by nodeId), then node ids to forget. */
  members?: { put?: readonly MemberRecord[]; remove?: readonly NodeId[] };
}

/** A durable home for a node's records, watermarks, settings and member records. */
export interface StorageAdapter {
  /** 'sqlite' | 'memory'. */
  readonly kind: string;
  /** Everything held, for `Store.load` and the membership restore. */
  load(): Promise<StoredState>;
  /** One meta value, or undefined when unset. */
  getMeta(key: string): Promise<unknown>;
  /** Applies a batch atomically: all of it or, when it rejects, none of it. */
  apply(batch: StorageBatch): Promise<void>;
  /** Releases the underlying resources; later calls reject with CHORUS_STORAGE_CLOSED. */
  close(): Promise<void>;
}
