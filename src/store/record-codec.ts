import { decode, encode } from '../core/codec.ts';
import { TOMBSTONE, type StoreRecord } from './record.ts';

// Wire and storage form of a record: a positional array, smaller than a map.
// [objectId, field, kind, value, ts.ms, ts.lc, origin, seq]; kind 0 = value, 1 = tombstone.
// ONLY APPEND new kinds; never renumber.
const KIND_VALUE = 0;
const KIND_TOMBSTONE = 1;

/** A record as a plain array ready for MessagePack. */
export function recordToTuple(r: StoreRecord): unknown[] {
  return r.value === TOMBSTONE
    ? [r.objectId, r.field, KIND_TOMBSTONE, null, r.ts.ms, r.ts.lc, r.origin, r.seq]
    : [r.objectId, r.field, KIND_VALUE, r.value, r.ts.ms, r.ts.lc, r.origin, r.seq];
}

/**
 * Turns a decoded tuple back into a record-shaped object. It does not validate: the result
 * goes through `Store.merge`, which checks every part and drops what is malformed.
 */
export function tupleToRecord(t: unknown): unknown {
  if (!Array.isArray(t) || t.length !== 8) return { malformed: true };
  const [objectId, field, kind, value, ms, lc, origin, seq] = t as unknown[];
  if (kind !== KIND_VALUE && kind !== KIND_TOMBSTONE) return { malformed: true };
  return { objectId, field, value: kind === KIND_TOMBSTONE ? TOMBSTONE : value, ts: { ms, lc }, origin, seq };
}

/** Encodes a list of records. */
export function encodeRecords(records: readonly StoreRecord[]): Uint8Array {
  return encode(records.map(recordToTuple));
}

/** Decodes a list of records for `Store.merge`; an undecodable buffer yields an error. */
export function decodeRecords(bytes: Uint8Array): unknown[] {
  const raw = decode(bytes);
  if (!Array.isArray(raw)) throw new TypeError('encoded records must be an array');
  return raw.map(tupleToRecord);
}

