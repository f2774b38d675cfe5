import { isNodeId, MAX_OBJECT_ID_LENGTH, type NodeId } from '../core/ids.ts';
import { measureJson } from '../core/json.ts';
import type { Cover, Digest } from '../store/store.ts';
import type { MemberDigest, VersionRange } from './messages.ts';

/** Bounds every inbound message is held to, whatever its sender claims. */
export const WIRE_LIMITS = {
  /** Records in one ACK/ACK2/PUSH/SNAPSHOT_CHUNK; batches are cut far below this. */
  maxRecords: 65_536,
  /** Member records in one ACK/ACK2. */
  maxMembers: 65_536,
  /** Entries in a store or member digest: one per origin or member. */
  maxDigestEntries: 200_000,
  /** Covers in one batch: at most one per origin. */
  maxCovers: 200_000,
  /** Piggybacked member updates on one message. */
  maxGossip: 256,
  /** Names, nonces, topics, ids. */
  maxStringLength: 256,
  /** Error messages in CMD_RESULT. */
  maxTextLength: 4096,
  /** Highest protocol version number accepted in a range. */
  maxVersion: 65_535,
  /** Highest PUSH hop count. */
  maxPushHops: 15,
  /** Longest command timeout: one day. */
  maxTimeoutMs: 86_400_000,
  /** Command args, results and published payloads. */
  maxJsonBytes: 1024 * 1024,
  maxJsonDepth: 32,
} as const;

/** Thrown by the field checkers below and turned into a `{ ok: false, reason }` result. */
export class Invalid {
  constructor(readonly reason: string) {}
}

/** Fails with `bad-field:<name>`. */
export function bad(name: string): never {
  throw new Invalid(`bad-field:${name}`);
}

/** A plain (non-array) object, or undefined. */
export function asObject(x: unknown): Record<string, unknown> | undefined {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array) ? (x as Record<string, unknown>) : undefined;
}

/** A node id. */
export function nodeId(x: unknown, name: string): NodeId {
  return isNodeId(x) ? x : bad(name);
}

/** A string of `min`..`max` UTF-16 units. */
export function str(x: unknown, name: string, max: number = WIRE_LIMITS.maxStringLength, min = 0): string {
  return typeof x === 'string' && x.length >= min && x.length <= max ? x : bad(name);
}

/** A safe integer in `[min, max]`. */
export function int(x: unknown, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  return Number.isSafeInteger(x) && (x as number) >= min && (x as number) <= max ? (x as number) : bad(name);
}

/** A boolean. */
export function bool(x: unknown, name: string): boolean {
  return typeof x === 'boolean' ? x : bad(name);
}

/** An array of at most `max` items, items unchecked. */
export function list(x: unknown, name: string, max: number): readonly unknown[] {
  if (!Array.isArray(x)) bad(name);
  if (x.length > max) throw new Invalid('too-many-items');
  return x;
}

/** A snapshot cursor: null or an object id. */
export function cursor(x: unknown, name: string): string | null {
  return x === null ? null : str(x, name, MAX_OBJECT_ID_LENGTH, 1);
}

/** A protocol version range `[min, max]` with `1 ≤ min ≤ max`. */
export function versionRange(x: unknown, name: string): VersionRange {
  if (!Array.isArray(x) || x.length !== 2) bad(name);
  const lo = int(x[0], name, 1, WIRE_LIMITS.maxVersion);
  const hi = int(x[1], name, lo, WIRE_LIMITS.maxVersion);
  return [lo, hi];
}

function entries(x: unknown, name: string): [string, unknown][] {
  const o = asObject(x);
  if (o === undefined) bad(name);
  const keys = Object.keys(o);
  if (keys.length > WIRE_LIMITS.maxDigestEntries) throw new Invalid('too-many-items');
  return keys.map((k) => [k, o[k]]);
}

/** A store digest `{ origin: seq }`, copied into a fresh object holding only checked keys. */
export function storeDigest(x: unknown, name: string): Digest {
  const out: Digest = {};
  for (const [k, v] of entries(x, name)) {
    if (!isNodeId(k)) bad(name);
    out[k] = int(v, name);
  }
  return out;
}

/** A member digest `{ nodeId: [generation, incarnation, rank] }`, copied. */
export function memberDigest(x: unknown, name: string): MemberDigest {
  const out: Record<string, readonly [number, number, number]> = {};
  for (const [k, v] of entries(x, name)) {
    if (!isNodeId(k) || !Array.isArray(v) || v.length !== 3) bad(name);
    out[k] = [int(v[0], name), int(v[1], name), int(v[2], name, 0, 3)];
  }
  return out;
}

/** Covers `{ origin, from, to }` with `0 ≤ from ≤ to`, copied. */
export function covers(x: unknown, name: string): Cover[] {
  return list(x, name, WIRE_LIMITS.maxCovers).map((c) => {
    const o = asObject(c) ?? bad(name);
    const from = int(o.from, name);
    return { origin: nodeId(o.origin, name), from, to: int(o.to, name, from) };
  });
}

/** A member record claimed by its sender: an object whose `nodeId` is `from`. */
export function ownRecord(x: unknown, from: NodeId, name: string): unknown {
  const o = asObject(x);
  return o !== undefined && o.nodeId === from ? x : bad(name);
}

/** A plain JSON value within the wire limits. */
export function json(x: unknown, name: string): unknown {
  try {
    measureJson(x, { maxDepth: WIRE_LIMITS.maxJsonDepth, maxBytes: WIRE_LIMITS.maxJsonBytes }, name);
  } catch {
    bad(name);
  }
  return x;
}
