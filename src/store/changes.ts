import type { Timestamp } from '../core/hlc.ts';
import type { NodeId, ObjectId } from '../core/ids.ts';
import type { Json } from '../core/json.ts';
import type { StoreRecord } from './record.ts';

/** The visible effect of a write or a merge on one object. */
export interface ObjectChange {
  readonly objectId: ObjectId;
  /** Fields whose winning value was written, with the new value. */
  readonly set: Record<string, Json>;
  /** Fields that were visible and no longer are. */
  readonly removed: string[];
  /** The object was absent before and exists now. */
  readonly created: boolean;
  /** The object existed before and is absent now. */
  readonly deleted: boolean;
  /** Origin and stamp of the last record that changed it. */
  readonly origin: NodeId;
  readonly ts: Timestamp;
}

interface Draft {
  objectId: ObjectId;
  set: Record<string, Json>;
  /** Allocated on the first removal: most changes remove nothing. */
  removed: Set<string> | undefined;
  created: boolean;
  deleted: boolean;
  origin: NodeId;
  ts: Timestamp;
}

/** Accumulates per-object changes over one write or merge. */
export class ChangeSet {
  private readonly drafts = new Map<ObjectId, Draft>();

  private draft(r: StoreRecord): Draft {
    let d = this.drafts.get(r.objectId);
    if (d === undefined) {
      d = { objectId: r.objectId, set: {}, removed: undefined, created: false, deleted: false, origin: r.origin, ts: r.ts };
      this.drafts.set(r.objectId, d);
    }
    d.origin = r.origin;
    d.ts = r.ts;
    return d;
  }

  /** A field's winning value was written. */
  set(r: StoreRecord, field: string, value: Json): void {
    const d = this.draft(r);
    d.set[field] = value;
    d.removed?.delete(field);
  }

  /** A visible field went away. */
  removed(r: StoreRecord, field: string): void {
    const d = this.draft(r);
    delete d.set[field];
    (d.removed ??= new Set()).add(field);
  }

  /** The object appeared or disappeared. */
  visibility(r: StoreRecord, visible: boolean): void {
    const d = this.draft(r);
    // Appearing after disappearing within one batch (or the reverse) nets out.
    if (visible) {
      if (d.deleted) d.deleted = false;
      else d.created = true;
    } else if (d.created) d.created = false;
    else d.deleted = true;
  }

  /** The accumulated changes, omitting objects whose changes netted out to nothing. */
  list(): ObjectChange[] {
    const out: ObjectChange[] = [];
    for (const d of this.drafts.values()) {
      const removed = d.removed === undefined ? [] : [...d.removed];
      if (!d.created && !d.deleted && removed.length === 0 && Object.keys(d.set).length === 0) continue;
      out.push({ objectId: d.objectId, set: d.set, removed, created: d.created, deleted: d.deleted, origin: d.origin, ts: d.ts });
    }
    return out;
  }
}
