import type { NodeId } from '../core/ids.ts';
import { parseCollected, type Collected } from '../store/collected.ts';
import { MessageType, type Message, type RefusalReason } from './messages.ts';
import {
  asObject,
  bad,
  bool,
  covers,
  cursor,
  int,
  Invalid,
  json,
  list,
  memberDigest,
  nodeId,
  ownRecord,
  storeDigest,
  str,
  versionRange,
  WIRE_LIMITS,
} from './validate-fields.ts';
import { Undecodable } from './wire.ts';

/** What `validateMessage` returns: the checked message, or a stable reason to count. */
export type ValidationResult = { readonly ok: true; readonly message: Message } | { readonly ok: false; readonly reason: string };

/**
 * The stable drop reasons (besides `bad-field:<name>`, one per field name below):
 * not-an-object, unknown-type, too-many-items, malformed (a value that threw while read);
 * wire.ts adds undecodable and too-large.
 */
export const VALIDATION_REASONS = ['not-an-object', 'unknown-type', 'too-many-items', 'malformed', 'undecodable', 'too-large'] as const;

type Fields = Record<string, unknown>;
type Head = { from: NodeId; gossip?: readonly unknown[] };
type Check = (o: Fields, head: Head) => Message;

const REFUSALS: readonly RefusalReason[] = ['version-mismatch', 'mesh-mismatch', 'duplicate-identity'];
const S = WIRE_LIMITS.maxStringLength;

const records = (o: Fields): readonly unknown[] => list(o.records, 'records', WIRE_LIMITS.maxRecords);
const members = (o: Fields): readonly unknown[] => list(o.members, 'members', WIRE_LIMITS.maxMembers);
const nullableDigest = (x: unknown, name: string) => (x === null ? null : storeDigest(x, name));

/** Adds the optional `gc` (Collected) of SYN, ACK, ACK2 and a first snapshot chunk. */
function withGc<M extends object>(m: M, o: Fields): M | (M & { gc: Collected }) {
  if (o.gc === undefined) return m;
  if (typeof o.gc === 'object' && o.gc !== null && Object.keys((o.gc as { floors?: object }).floors ?? {}).length > WIRE_LIMITS.maxDigestEntries) bad('gc');
  return { ...m, gc: parseCollected(o.gc) ?? bad('gc') };
}

function probe(t: typeof MessageType.PING | typeof MessageType.PING_REQ | typeof MessageType.PING_ACK): Check {
  return (o, h) => {
    const m = { ...h, t, probeSeq: int(o.probeSeq, 'probeSeq'), target: nodeId(o.target, 'target') };
    return o.reliable === undefined ? m : { ...m, reliable: bool(o.reliable, 'reliable') };
  };
}

function welcome(o: Fields, h: Head): Message {
  const refused = o.refused;
  if (refused !== undefined && !REFUSALS.includes(refused as RefusalReason)) bad('refused');
  const version = int(o.version, 'version', 0, WIRE_LIMITS.maxVersion);
  if ((version === 0) !== (refused !== undefined)) bad('version');
  const m = {
    ...h,
    t: MessageType.WELCOME,
    mesh: str(o.mesh, 'mesh', S),
    version,
    versions: versionRange(o.versions, 'versions'),
    record: ownRecord(o.record, h.from, 'record'),
    bootNonce: str(o.bootNonce, 'bootNonce', S, 1),
  } as const;
  return refused === undefined ? m : { ...m, refused: refused as RefusalReason };
}

function snapshotChunk(o: Fields, h: Head): Message {
  const m = { ...h, t: MessageType.SNAPSHOT_CHUNK, records: records(o), cursor: cursor(o.cursor, 'cursor') } as const;
  return withGc(o.start === undefined ? m : { ...m, start: storeDigest(o.start, 'start') }, o);
}

function cmdResult(o: Fields, h: Head): Message {
  const m = { ...h, t: MessageType.CMD_RESULT, id: str(o.id, 'id', S, 1), ok: bool(o.ok, 'ok') } as const;
  if (m.ok) return { ...m, result: json(o.result ?? null, 'result') };
  const e = asObject(o.error) ?? bad('error');
  return { ...m, error: { code: str(e.code, 'error', S, 1), message: str(e.message, 'error', WIRE_LIMITS.maxTextLength) } };
}

const CHECKS: Readonly<Record<number, Check>> = {
  [MessageType.HELLO]: (o, h) => ({
    ...h,
    t: MessageType.HELLO,
    mesh: str(o.mesh, 'mesh', S),
    versions: versionRange(o.versions, 'versions'),
    record: ownRecord(o.record, h.from, 'record'),
    bootNonce: str(o.bootNonce, 'bootNonce', S, 1),
  }),
  [MessageType.WELCOME]: welcome,
  [MessageType.SYN]: (o, h) => withGc({ ...h, t: MessageType.SYN, members: memberDigest(o.members, 'members'), store: nullableDigest(o.store, 'store') }, o),
  [MessageType.ACK]: (o, h) => withGc({
    ...h,
    t: MessageType.ACK,
    records: records(o),
    covers: covers(o.covers, 'covers'),
    complete: bool(o.complete, 'complete'),
    members: members(o),
    memberDigest: memberDigest(o.memberDigest, 'memberDigest'),
    store: nullableDigest(o.store, 'store'),
  }, o),
  [MessageType.ACK2]: (o, h) => withGc({
    ...h,
    t: MessageType.ACK2,
    records: records(o),
    covers: covers(o.covers, 'covers'),
    complete: bool(o.complete, 'complete'),
    members: members(o),
  }, o),
  [MessageType.PUSH]: (o, h) => ({ ...h, t: MessageType.PUSH, records: records(o), hops: int(o.hops, 'hops', 0, WIRE_LIMITS.maxPushHops) }),
  [MessageType.PING]: probe(MessageType.PING),
  [MessageType.PING_REQ]: probe(MessageType.PING_REQ),
  [MessageType.PING_ACK]: probe(MessageType.PING_ACK),
  [MessageType.SNAPSHOT_REQ]: (o, h) => ({ ...h, t: MessageType.SNAPSHOT_REQ, cursor: cursor(o.cursor, 'cursor') }),
  [MessageType.SNAPSHOT_CHUNK]: snapshotChunk,
  [MessageType.SNAPSHOT_END]: (o, h) => ({ ...h, t: MessageType.SNAPSHOT_END, digest: storeDigest(o.digest, 'digest') }),
  [MessageType.CMD]: (o, h) => ({
    ...h,
    t: MessageType.CMD,
    id: str(o.id, 'id', S, 1),
    target: str(o.target, 'target', S, 1),
    action: str(o.action, 'action', S, 1),
    args: json(o.args ?? null, 'args'),
    timeoutMs: int(o.timeoutMs, 'timeoutMs', 1, WIRE_LIMITS.maxTimeoutMs),
  }),
  [MessageType.CMD_RESULT]: cmdResult,
  [MessageType.PUBLISH]: (o, h) => ({ ...h, t: MessageType.PUBLISH, topic: str(o.topic, 'topic', S, 1), payload: json(o.payload ?? null, 'payload') }),
  [MessageType.LEAVE]: (o, h) => ({ ...h, t: MessageType.LEAVE, record: ownRecord(o.record, h.from, 'record') }),
  [MessageType.STORED]: (o, h) => ({ ...h, t: MessageType.STORED, digest: storeDigest(o.digest, 'digest') }),
};

/**
 * Checks an inbound value (decoded but untrusted) and returns a fresh message holding only
 * known, checked fields. Store records and member records inside are only bounded here:
 * Store.merge and Membership.applyGossip check them one by one. Never throws.
 */
export function validateMessage(x: unknown): ValidationResult {
  if (x instanceof Undecodable) return { ok: false, reason: x.reason };
  const o = asObject(x);
  if (o === undefined) return { ok: false, reason: 'not-an-object' };
  const check = typeof o.t === 'number' && Object.hasOwn(CHECKS, o.t) ? CHECKS[o.t] : undefined;
  if (check === undefined) return { ok: false, reason: 'unknown-type' };
  try {
    const from = nodeId(o.from, 'from');
    const head: Head = o.gossip === undefined ? { from } : { from, gossip: list(o.gossip, 'gossip', WIRE_LIMITS.maxGossip) };
    return { ok: true, message: check(o, head) };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, reason: e.reason };
    return { ok: false, reason: 'malformed' };
  }
}
