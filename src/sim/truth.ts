import type { Json } from '../core/json.ts';
import { compareRecords, OBJECT_FIELD, TOMBSTONE, type StoreRecord } from '../store/index.ts';

/** One visible object as `Store.list()` shows it. */
export interface VisibleObject {
  readonly id: string;
  readonly fields: Record<string, Json>;
}

/**
 * The visible state a set of records adds up to under the store's rules, folded directly (not
 * through a Store, whose seq bookkeeping a reused seq would confuse): each register keeps its
 * last writer; a field shows when it is not a tombstone and beats its object-level record; an
 * object shows when a field shows or its object-level record is a reset. In id order, fields
 * in name order, as `Store.list()` returns them.
 */
export function visibleState(records: Iterable<StoreRecord>): VisibleObject[] {
  const objects = new Map<string, { obj: StoreRecord | undefined; fields: Map<string, StoreRecord> }>();
  for (const r of records) {
    let o = objects.get(r.objectId);
    if (o === undefined) {
      o = { obj: undefined, fields: new Map() };
      objects.set(r.objectId, o);
    }
    if (r.field === OBJECT_FIELD) {
      if (o.obj === undefined || compareRecords(r, o.obj) > 0) o.obj = r;
    } else {
      const f = o.fields.get(r.field);
      if (f === undefined || compareRecords(r, f) > 0) o.fields.set(r.field, r);
    }
  }
  const out: VisibleObject[] = [];
  for (const id of [...objects.keys()].sort()) {
    const o = objects.get(id) as { obj: StoreRecord | undefined; fields: Map<string, StoreRecord> };
    const fields: Record<string, Json> = {};
    let shown = 0;
    for (const name of [...o.fields.keys()].sort()) {
      const f = o.fields.get(name) as StoreRecord;
      if (f.value === TOMBSTONE || (o.obj !== undefined && compareRecords(f, o.obj) <= 0)) continue;
      fields[name] = f.value;
      shown++;
    }
    if (shown > 0 || (o.obj !== undefined && o.obj.value !== TOMBSTONE)) out.push({ id, fields });
  }
  return out;
}
