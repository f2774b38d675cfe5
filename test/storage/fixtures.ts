import type { NodeId, ObjectId } from '../../src/core/ids.ts';
import type { Json } from '../../src/core/json.ts';
import type { MemberRecord } from '../../src/membership/member.ts';
import { TOMBSTONE, type StoreRecord, type Tombstone } from '../../src/store/record.ts';
import type { Store } from '../../src/store/store.ts';

/** Three well-formed node ids, ascending. */
export const A = 'a'.repeat(32) as NodeId;
export const B = 'b'.repeat(32) as NodeId;
export const C = 'c'.repeat(32) as NodeId;

/** A record with sensible defaults. */
export function rec(objectId: string, field: string, value: Json | Tombstone, seq: number, origin: NodeId = A, ms = 1_700_000_000_000 + seq): StoreRecord {
  return { objectId: objectId as ObjectId, field, value, ts: { ms, lc: 0 }, origin, seq };
}

/** A member record. */
export function member(nodeId: NodeId, generation = 1, name = `node-${nodeId.slice(0, 4)}`): MemberRecord {
  return { nodeId, name, generation, incarnation: 0, status: 'alive', addresses: ['10.0.0.1'], port: 7070, capabilities: ['lights'], tags: { room: 'hall' } };
}

/** A record as one comparable line: values, tombstones and stamps included. */
export function recordLine(r: unknown): string {
  const x = r as StoreRecord;
  return JSON.stringify([x.objectId, x.field, x.value === TOMBSTONE ? '<tombstone>' : x.value, x.ts.ms, x.ts.lc, x.origin, x.seq]);
}

/** Everything a store holds, as sorted lines. */
export function storeLines(store: Store): string[] {
  return [...store.records()].map(recordLine).sort();
}
