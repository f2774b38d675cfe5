import { isNodeId, type NodeId } from '../core/ids.ts';
import { STATUS_RANK, type MemberRecord, type MemberStatus } from './member.ts';

// Freshness of member records (DESIGN.md, Membership; seed 003, ESPGossip): compare the
// generation (ESPGossip's revision) first, then the incarnation (its heartbeat), then the
// status rank, where the state closer to down wins at equal versions. Malformed records
// are rejected by `memberProblem` before any comparison, so they can never win.

/** A member's version as anti-entropy digests carry it: [generation, incarnation, status rank]. */
export type MemberVersion = readonly [generation: number, incarnation: number, rank: number];

/** Longest accepted member name. */
export const MAX_NAME_LENGTH = 128;
/** Most addresses a member may advertise. */
export const MAX_ADDRESSES = 16;
/** Longest accepted address. */
export const MAX_ADDRESS_LENGTH = 64;
/** Most capabilities a member may advertise. */
export const MAX_CAPABILITIES = 64;
/** Longest accepted capability name (not fixed by DESIGN.md; bounds a record's size). */
export const MAX_CAPABILITY_LENGTH = 128;
/** Most tags a member may carry. */
export const MAX_TAGS = 64;
/** Longest accepted tag key (not fixed by DESIGN.md; bounds a record's size). */
export const MAX_TAG_KEY_LENGTH = 128;
/** Longest accepted tag value (not fixed by DESIGN.md; bounds a record's size). */
export const MAX_TAG_VALUE_LENGTH = 256;

const STATUSES: readonly MemberStatus[] = ['alive', 'suspect', 'dead', 'left'];

/** The status a rank stands for (the inverse of STATUS_RANK), or undefined for no status. */
export function statusOfRank(rank: number): MemberStatus | undefined {
  return STATUSES.find((s) => STATUS_RANK[s] === rank);
}

/** The version triple of a record. */
export function versionOf(r: Pick<MemberRecord, 'generation' | 'incarnation' | 'status'>): MemberVersion {
  return [r.generation, r.incarnation, STATUS_RANK[r.status]];
}

/** Orders two versions: positive when `a` is fresher, negative when `b` is, 0 when equal. */
export function compareVersion(a: MemberVersion, b: MemberVersion): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** Orders two well-formed records by (generation, incarnation, status rank): positive when `a` is fresher. */
export function compareFreshness(
  a: Pick<MemberRecord, 'generation' | 'incarnation' | 'status'>,
  b: Pick<MemberRecord, 'generation' | 'incarnation' | 'status'>,
): number {
  return compareVersion(versionOf(a), versionOf(b));
}

/** True when `a` and `b` carry the same generation and incarnation (status may differ). */
export function sameVersion(a: Pick<MemberRecord, 'generation' | 'incarnation'>, b: Pick<MemberRecord, 'generation' | 'incarnation'>): boolean {
  return a.generation === b.generation && a.incarnation === b.incarnation;
}

/** True when `incoming` is a well-formed record strictly fresher than `current` (or `current` is absent). */
export function isFresherUpdate(incoming: unknown, current: MemberRecord | undefined): incoming is MemberRecord {
  if (memberProblem(incoming) !== undefined) return false;
  return current === undefined || compareFreshness(incoming as MemberRecord, current) > 0;
}

/**
 * The highest generation accepted at wall-clock time `wallMs` (ms since the epoch, never a
 * monotonic timer base): epoch seconds `maxFutureMs` ahead. Generations are normally small
 * counters (+1 per start), which always pass; a deployment that seeds them from epoch
 * seconds still passes as long as its clock is within `maxFutureMs` of ours. Anything above
 * is a corrupt or hostile value that would otherwise win every comparison forever.
 */
export function maxGeneration(wallMs: number, maxFutureMs: number): number {
  return Math.floor((wallMs + maxFutureMs) / 1000);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function stringListProblem(v: unknown, what: string, maxItems: number, maxLength: number): string | undefined {
  if (!Array.isArray(v)) return `${what} must be an array`;
  if (v.length > maxItems) return `${what} has ${v.length} entries, the limit is ${maxItems}`;
  for (const s of v) {
    if (typeof s !== 'string') return `${what} entries must be strings`;
    if (s.length > maxLength) return `${what} entry is ${s.length} characters, the limit is ${maxLength}`;
  }
  return undefined;
}

function tagsProblem(v: unknown): string | undefined {
  if (!isPlainObject(v)) return 'tags must be an object';
  const entries = Object.entries(v);
  if (entries.length > MAX_TAGS) return `tags has ${entries.length} entries, the limit is ${MAX_TAGS}`;
  for (const [k, s] of entries) {
    if (k.length > MAX_TAG_KEY_LENGTH) return `tag key is ${k.length} characters, the limit is ${MAX_TAG_KEY_LENGTH}`;
    if (typeof s !== 'string') return `tag ${JSON.stringify(k)} must be a string`;
    if (s.length > MAX_TAG_VALUE_LENGTH) return `tag ${JSON.stringify(k)} is ${s.length} characters, the limit is ${MAX_TAG_VALUE_LENGTH}`;
  }
  return undefined;
}

/** Why `x` is not a well-formed MemberRecord (as received from the wire), or undefined when it is. */
export function memberProblem(x: unknown): string | undefined {
  if (!isPlainObject(x)) return 'member record must be an object';
  if (!isNodeId(x.nodeId)) return 'nodeId must be 32 lowercase hex characters';
  if (typeof x.name !== 'string') return 'name must be a string';
  if (x.name.length > MAX_NAME_LENGTH) return `name is ${x.name.length} characters, the limit is ${MAX_NAME_LENGTH}`;
  if (!isCount(x.generation)) return 'generation must be a non-negative safe integer';
  if (!isCount(x.incarnation)) return 'incarnation must be a non-negative safe integer';
  if (!STATUSES.includes(x.status as MemberStatus)) return `status must be one of ${STATUSES.join(', ')}`;
  const addresses = stringListProblem(x.addresses, 'addresses', MAX_ADDRESSES, MAX_ADDRESS_LENGTH);
  if (addresses !== undefined) return addresses;
  if (typeof x.port !== 'number' || !Number.isInteger(x.port) || x.port < 0 || x.port > 65535) return 'port must be an integer in 0..65535';
  const capabilities = stringListProblem(x.capabilities, 'capabilities', MAX_CAPABILITIES, MAX_CAPABILITY_LENGTH);
  if (capabilities !== undefined) return capabilities;
  if (x.suspectedBy !== undefined && !isNodeId(x.suspectedBy)) return 'suspectedBy must be a node id when present';
  return tagsProblem(x.tags);
}

/**
 * A frozen copy of a record that passed `memberProblem`, holding only the known fields, so
 * extra properties from the wire are neither stored nor relayed; `suspectedBy` is kept only
 * on a suspect record.
 */
export function cleanMember(x: MemberRecord): MemberRecord {
  const clean = {
    nodeId: x.nodeId,
    name: x.name,
    generation: x.generation,
    incarnation: x.incarnation,
    status: x.status,
    addresses: Object.freeze(x.addresses.slice()),
    port: x.port,
    capabilities: Object.freeze(x.capabilities.slice()),
    tags: Object.freeze(Object.fromEntries(Object.entries(x.tags))),
  };
  return Object.freeze(x.status === 'suspect' && x.suspectedBy !== undefined ? { ...clean, suspectedBy: x.suspectedBy } : clean);
}

/** `r` with another status; `suspectedBy` is set when the status is suspect and it is given, and dropped otherwise. */
export function withStatus(r: MemberRecord, status: MemberStatus, suspectedBy?: NodeId): MemberRecord {
  const { suspectedBy: _previous, ...rest } = r;
  return Object.freeze(status === 'suspect' && suspectedBy !== undefined ? { ...rest, status, suspectedBy } : { ...rest, status });
}

/** Parses a digest entry from the wire, or undefined when it is not [generation, incarnation, rank]. */
export function parseVersion(x: unknown): MemberVersion | undefined {
  if (!Array.isArray(x) || x.length !== 3) return undefined;
  const [g, i, r] = x as unknown[];
  if (!isCount(g) || !isCount(i) || !isCount(r) || r > STATUS_RANK.left) return undefined;
  return [g, i, r];
}
