import { ChorusError, ErrorCode } from '../core/errors.ts';
import { compareTs, isTimestamp, type Timestamp } from '../core/hlc.ts';
import { isNodeId, objectIdProblem, type NodeId, type ObjectId } from '../core/ids.ts';
import { isWellFormed, measureJson, utf8Length, type Json, type JsonLimits } from '../core/json.ts';

/** Marks a deleted field or a deleted object. */
export const TOMBSTONE: unique symbol = Symbol('chorus.tombstone');
/** The type of TOMBSTONE. */
export type Tombstone = typeof TOMBSTONE;

/**
 * The field name of an object-level record. It is not a valid field name, so it cannot collide:
 * an object-level record with value `null` resets the object (a whole-object put), with
 * TOMBSTONE deletes it. Either clears every field record it beats.
 */
export const OBJECT_FIELD = '';

/** One replicated write: a last-writer-wins register value for one field of one object. */
export interface StoreRecord {
  readonly objectId: ObjectId;
  readonly field: string;
  readonly value: Json | Tombstone;
  readonly ts: Timestamp;
  readonly origin: NodeId;
  readonly seq: number;
}

const RESERVED_FIELDS = new Set(['__proto__', 'constructor', 'prototype']);
/** Longest accepted field name, in UTF-16 code units. */
export const MAX_FIELD_NAME_LENGTH = 256;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;

/** Why `name` is not a valid field name, or undefined when it is. */
export function fieldNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `field name must be a string, got ${typeof name}`;
  if (name.length === 0) return 'field name must not be empty';
  if (RESERVED_FIELDS.has(name)) return `field name "${name}" is reserved`;
  if (name.length > MAX_FIELD_NAME_LENGTH) return `field name is ${name.length} characters, the limit is ${MAX_FIELD_NAME_LENGTH}`;
  if (CONTROL_RE.test(name)) return 'field name must not contain control characters';
  if (!isWellFormed(name)) return 'field name must not contain an unpaired UTF-16 surrogate';
  return undefined;
}

/** Throws CHORUS_INVALID_FIELD_NAME unless `name` is a valid field name. */
export function assertFieldName(name: unknown): asserts name is string {
  const problem = fieldNameProblem(name);
  if (problem !== undefined) throw new ChorusError(ErrorCode.InvalidFieldName, problem);
}

/**
 * Last-writer-wins order: higher stamp wins, a tie goes to the higher origin, and (only a
 * misbehaving origin can tie on both) the higher seq. Positive when `a` beats `b`.
 */
export function compareRecords(a: StoreRecord, b: StoreRecord): number {
  const byTs = compareTs(a.ts, b.ts);
  if (byTs !== 0) return byTs;
  if (a.origin !== b.origin) return a.origin > b.origin ? 1 : -1;
  return a.seq - b.seq;
}

/** Fixed per-record overhead in the encoded form: array header, stamp, origin, seq, kind. */
const RECORD_OVERHEAD = 1 + 9 + 5 + 34 + 5 + 1;

function strBytes(s: string): number {
  const n = utf8Length(s);
  return n + (n < 32 ? 1 : n < 256 ? 2 : 3);
}

/** The encoded size of a record whose value measured `valueBytes`. */
export function recordBytes(objectId: string, field: string, valueBytes: number): number {
  return RECORD_OVERHEAD + strBytes(objectId) + strBytes(field) + valueBytes;
}

/**
 * Validates a record from outside (a peer or storage) and returns its encoded size; throws a
 * ChorusError naming the first problem found.
 */
export function checkRecord(input: unknown, limits: JsonLimits, knownOrigins?: Set<string>): number {
  if (typeof input !== 'object' || input === null) throw malformed('record is not an object');
  const r = input as Partial<Record<keyof StoreRecord, unknown>>;
  const idProblem = objectIdProblem(r.objectId);
  if (idProblem !== undefined) throw new ChorusError(ErrorCode.InvalidObjectId, idProblem);
  // Origins are few and recur on every record: a known one skips the pattern test.
  if (!(knownOrigins?.has(r.origin as string) ?? false)) {
    if (!isNodeId(r.origin)) throw malformed('record origin is not a node id');
    if (knownOrigins !== undefined && knownOrigins.size < 65_536) knownOrigins.add(r.origin);
  }
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1) throw malformed('record seq must be a positive integer');
  if (!isTimestamp(r.ts)) throw malformed('record ts is not a timestamp');
  let valueBytes = 1;
  if (r.field === OBJECT_FIELD) {
    if (r.value !== TOMBSTONE && r.value !== null) throw malformed('an object-level record must be a reset (null) or a tombstone');
  } else {
    assertFieldName(r.field);
    if (r.value !== TOMBSTONE) valueBytes = measureJson(r.value, limits, `field "${r.field as string}"`);
  }
  return recordBytes(r.objectId as string, r.field as string, valueBytes);
}

function malformed(message: string): ChorusError {
  return new ChorusError(ErrorCode.MalformedRecord, message);
}
