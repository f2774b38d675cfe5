import type { NodeId, ObjectId } from '../core/ids.ts';
import { isVisible, type Entry, type ObjState } from './entry.ts';
import type { OriginLog } from './origin-log.ts';
import { compareRecords, OBJECT_FIELD, TOMBSTONE } from './record.ts';
import type { StoreStats } from './types.ts';

/** The parts of a Store its invariants speak about. */
export interface StoreView {
  readonly objects: ReadonlyMap<ObjectId, ObjState>;
  readonly logs: ReadonlyMap<NodeId, OriginLog<Entry>>;
  readonly tombstones: ReadonlySet<Entry>;
  readonly stats: StoreStats;
}

/**
 * Checks a Store's invariants (see the Store class comment) by a full scan and describes each
 * one broken; an empty list means they all hold. O(records): for tests and the simulator's
 * debug mode, never for a hot path.
 */
export function checkStoreInvariants(v: StoreView): string[] {
  const out: string[] = [];
  let visible = 0;
  let liveFields = 0;
  let tombstones = 0;
  let bytes = 0;
  const held = new Set<Entry>();
  const hold = (id: ObjectId, e: Entry, where: string): void => {
    held.add(e);
    bytes += e.bytes;
    if (e.rec.value === TOMBSTONE) {
      tombstones++;
      if (!v.tombstones.has(e)) out.push(`${id}/${where}: tombstone not in the tombstone set`);
    } else if (e.rec.field !== OBJECT_FIELD) liveFields++;
    if (e.rec.objectId !== id) out.push(`${id}/${where}: holds a record of object ${e.rec.objectId}`);
    if (v.logs.get(e.rec.origin)?.live.get(e.rec.seq) !== e) out.push(`${id}/${where}: record ${e.rec.origin}:${e.rec.seq} is not in its origin's log under its seq`);
  };
  for (const [id, o] of v.objects) {
    if (o.obj === undefined && o.fields.size === 0) out.push(`${id}: empty object kept`);
    let visibleFields = 0;
    if (o.obj !== undefined) {
      if (o.obj.rec.field !== OBJECT_FIELD) out.push(`${id}: object-level slot holds field ${o.obj.rec.field}`);
      hold(id, o.obj, OBJECT_FIELD);
    }
    for (const [name, f] of o.fields) {
      if (f.rec.field !== name) out.push(`${id}/${name}: holds a record of field ${f.rec.field}`);
      if (o.obj !== undefined && compareRecords(f.rec, o.obj.rec) <= 0) out.push(`${id}/${name}: field record does not beat the object-level record`);
      if (f.rec.value !== TOMBSTONE) visibleFields++;
      hold(id, f, name);
    }
    if (visibleFields !== o.visibleFields) out.push(`${id}: visibleFields ${o.visibleFields}, counted ${visibleFields}`);
    if (isVisible(o)) visible++;
  }
  for (const [origin, log] of v.logs) {
    out.push(...log.checkInvariants(origin));
    for (const [seq, e] of log.live) if (!held.has(e)) out.push(`${origin}:${seq}: in the log but not held by its object`);
  }
  for (const e of v.tombstones) if (!held.has(e)) out.push(`${e.rec.objectId}/${e.rec.field}: tombstone set holds a record not held`);
  const s = v.stats;
  if (s.objects !== visible) out.push(`stats.objects ${s.objects}, counted ${visible}`);
  if (s.liveFields !== liveFields) out.push(`stats.liveFields ${s.liveFields}, counted ${liveFields}`);
  if (s.tombstones !== tombstones) out.push(`stats.tombstones ${s.tombstones}, counted ${tombstones}`);
  if (s.encodedBytes !== bytes) out.push(`stats.encodedBytes ${s.encodedBytes}, counted ${bytes}`);
  return out;
}
