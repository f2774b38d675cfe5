import { TOMBSTONE, type StoreRecord } from './record.ts';

/** A held record and its encoded size. */
export interface Entry {
  readonly rec: StoreRecord;
  readonly bytes: number;
}

/** One object as a replica holds it: its object-level record (reset or delete) and its field records. */
export interface ObjState {
  obj: Entry | undefined;
  readonly fields: Map<string, Entry>;
  visibleFields: number;
}

/** An object is visible when it has a visible field or its object-level record is a reset. */
export function isVisible(o: ObjState): boolean {
  return o.visibleFields > 0 || (o.obj !== undefined && o.obj.rec.value !== TOMBSTONE);
}
