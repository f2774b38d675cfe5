import { ChorusError, ErrorCode } from './errors.ts';
import { isWellFormed } from './json.ts';
import type { Random } from './random.ts';

declare const brand: unique symbol;
/** A nominal type: a T that has passed a validator. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A node's identity: 128 random bits as 32 lowercase hex characters. */
export type NodeId = Brand<string, 'NodeId'>;
/** An object's identity: 1 to 256 characters, no control characters. */
export type ObjectId = Brand<string, 'ObjectId'>;

/** Longest accepted object id, in UTF-16 code units. */
export const MAX_OBJECT_ID_LENGTH = 256;

const NODE_ID_RE = /^[0-9a-f]{32}$/;
// C0 controls, DEL and C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;

/** Why `s` is not a valid object id, or undefined when it is. */
export function objectIdProblem(s: unknown): string | undefined {
  if (typeof s !== 'string') return `object id must be a string, got ${typeof s}`;
  if (s.length === 0) return 'object id must not be empty';
  if (s.length > MAX_OBJECT_ID_LENGTH) return `object id is ${s.length} characters, the limit is ${MAX_OBJECT_ID_LENGTH}`;
  if (CONTROL_RE.test(s)) return 'object id must not contain control characters';
  if (!isWellFormed(s)) return 'object id must not contain an unpaired UTF-16 surrogate';
  return undefined;
}

/** Validates and brands an object id, throwing CHORUS_INVALID_OBJECT_ID. */
export function parseObjectId(s: unknown): ObjectId {
  const problem = objectIdProblem(s);
  if (problem !== undefined) throw new ChorusError(ErrorCode.InvalidObjectId, problem);
  return s as ObjectId;
}

/** True when `s` is a well-formed node id. */
export function isNodeId(s: unknown): s is NodeId {
  return typeof s === 'string' && NODE_ID_RE.test(s);
}

/** Validates and brands a node id, throwing CHORUS_INVALID_NODE_ID. */
export function parseNodeId(s: unknown): NodeId {
  if (!isNodeId(s)) throw new ChorusError(ErrorCode.InvalidNodeId, `node id must be 32 lowercase hex characters, got ${JSON.stringify(s)}`);
  return s;
}

/** A fresh node id drawn from `random`. */
export function newNodeId(random: Random): NodeId {
  let hex = '';
  for (let i = 0; i < 4; i++) hex += random.uint32().toString(16).padStart(8, '0');
  return hex as NodeId;
}
