import { compareRecords, OBJECT_FIELD, TOMBSTONE, type Store, type StoreRecord } from '../store/index.ts';
import { registerKey, type Oracle } from './oracle.ts';

/**
 * What one replica holds, indexed by register, to ask whether a record is accounted for there:
 * held, or superseded by a record of its register or of its object-level register that the
 * replica holds, or that is a tombstone the replica has seen (its seq within the replica's
 * watermark of its origin: a tombstone may since have been collected, and what it superseded
 * with it). A tombstone the replica has seen is itself accounted for, collected or not.
 */
export class ReplicaCoverage {
  private readonly held = new Map<string, StoreRecord>();

  constructor(
    private readonly store: Store,
    private readonly oracle: Oracle,
  ) {
    for (const r of store.records()) this.held.set(registerKey(r.objectId, r.field), r);
  }

  /** Whether `r` is accounted for on this replica (see the class comment). */
  covers(r: StoreRecord): boolean {
    if (r.value === TOMBSTONE && this.store.watermark(r.origin) >= r.seq) return true;
    return this.supersededIn(r, r.field) || (r.field !== OBJECT_FIELD && this.supersededIn(r, OBJECT_FIELD));
  }

  private supersededIn(r: StoreRecord, field: string): boolean {
    const h = this.held.get(registerKey(r.objectId, field));
    if (h !== undefined && compareRecords(h, r) >= 0) return true;
    for (const t of this.oracle.tombstonesOf(r.objectId, field)) {
      if (compareRecords(t, r) >= 0 && this.store.watermark(t.origin) >= t.seq) return true;
    }
    return false;
  }
}
