import type { NodeId } from '../core/ids.ts';
import type { Collected } from '../store/collected.ts';
import type { Cover, Digest } from '../store/store.ts';

/**
 * Wire type codes. ONLY APPEND TO THIS LIST: a code, once released, keeps its meaning
 * forever (memberlist net.go); a new message type takes the next free number.
 */
export const MessageType = {
  HELLO: 1,
  WELCOME: 2,
  SYN: 3,
  ACK: 4,
  ACK2: 5,
  PUSH: 6,
  PING: 7,
  PING_REQ: 8,
  PING_ACK: 9,
  SNAPSHOT_REQ: 10,
  SNAPSHOT_CHUNK: 11,
  SNAPSHOT_END: 12,
  CMD: 13,
  CMD_RESULT: 14,
  PUBLISH: 15,
  LEAVE: 16,
  STORED: 17,
} as const;

/** One of the wire type codes. */
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Type code → name, for counters and logs. */
export const MESSAGE_TYPE_NAMES: Readonly<Record<MessageType, keyof typeof MessageType>> = Object.fromEntries(
  Object.entries(MessageType).map(([name, code]) => [code, name]),
) as Record<MessageType, keyof typeof MessageType>;

/** Counter names per type code, built once: counting a message allocates no string. */
export const SENT_COUNTER: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(MessageType).map(([name, code]) => [code, `sent:${name}`]));
/** See SENT_COUNTER. */
export const RECEIVED_COUNTER: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(MessageType).map(([name, code]) => [code, `received:${name}`]));

/** Lowest protocol version this build speaks. */
export const PROTOCOL_VERSION_MIN = 1;
/** Highest protocol version this build speaks. */
export const PROTOCOL_VERSION_MAX = 1;

/** Supported protocol versions, inclusive: `[min, max]`. */
export type VersionRange = readonly [min: number, max: number];

/**
 * A record in the record-codec tuple form (`recordToTuple`). Inbound ones are unchecked
 * until `tupleToRecord` + Store.merge, which drop and count malformed records one by one.
 */
export type RecordTuple = unknown;

/** Per member: `[generation, incarnation, statusRank]`, as `Membership.digest()` returns it. */
export type MemberDigest = Readonly<Record<string, readonly [number, number, number]>>;

/** Why a WELCOME refuses a HELLO. */
export type RefusalReason = 'version-mismatch' | 'mesh-mismatch' | 'duplicate-identity';

/**
 * Fields every message carries. `gossip` holds piggybacked member records; the validator
 * only bounds the list, and `Membership.applyGossip` checks each record.
 */
interface Envelope {
  readonly from: NodeId;
  readonly gossip?: readonly unknown[];
}

/** Opens a handshake: versions spoken, the sender's member record, boot nonce and mesh. */
export interface HelloMessage extends Envelope {
  readonly t: typeof MessageType.HELLO;
  readonly mesh: string;
  readonly versions: VersionRange;
  /** The sender's MemberRecord (checked by `Membership.hello`). */
  readonly record: unknown;
  readonly bootNonce: string;
}

/** Answers a HELLO: the chosen version (0 with `refused` when there is none) and our record. */
export interface WelcomeMessage extends Envelope {
  readonly t: typeof MessageType.WELCOME;
  readonly mesh: string;
  /** Highest version both sides speak; 0 when refused. */
  readonly version: number;
  /** The responder's own supported range, so a refused peer can say why. */
  readonly versions: VersionRange;
  readonly record: unknown;
  readonly bootNonce: string;
  readonly refused?: RefusalReason;
}

/**
 * What the sender's tombstone collection forgot (Collected); optional on the wire, so peers
 * that predate it interoperate (they neither send nor read it).
 */
interface CollectedInfo {
  readonly gc?: Collected;
}

/** Opens an anti-entropy round: what the initiator holds. `store: null` asks for no records. */
export interface SynMessage extends Envelope, CollectedInfo {
  readonly t: typeof MessageType.SYN;
  readonly members: MemberDigest;
  readonly store: Digest | null;
}

/** Deltas and member records the initiator lacks, plus what the responder holds. */
export interface AckMessage extends Envelope, CollectedInfo {
  readonly t: typeof MessageType.ACK;
  readonly records: readonly RecordTuple[];
  readonly covers: readonly Cover[];
  /** False when a budget cut the batch: the initiator continues the exchange. */
  readonly complete: boolean;
  readonly members: readonly unknown[];
  readonly memberDigest: MemberDigest;
  /** The responder's store digest; null while it bootstraps (send it no records). */
  readonly store: Digest | null;
}

/** The initiator's deltas and member records for the responder. */
export interface Ack2Message extends Envelope, CollectedInfo {
  readonly t: typeof MessageType.ACK2;
  readonly records: readonly RecordTuple[];
  readonly covers: readonly Cover[];
  readonly complete: boolean;
  readonly members: readonly unknown[];
}

/** Eager push of fresh records; `hops` 0 from the writer, +1 per forward (1 by default: forwarded once). */
export interface PushMessage extends Envelope {
  readonly t: typeof MessageType.PUSH;
  readonly records: readonly RecordTuple[];
  readonly hops: number;
}

/** A SWIM probe message (ping, indirect ping request, ack). */
export interface ProbeWireMessage extends Envelope {
  readonly t: typeof MessageType.PING | typeof MessageType.PING_REQ | typeof MessageType.PING_ACK;
  readonly probeSeq: number;
  readonly target: NodeId;
  /** On a PING: sent over the reliable stream as a fallback; the ack returns the same way. */
  readonly reliable?: boolean;
}

/** Asks for the snapshot chunk after `cursor` (null: from the start, opening a session). */
export interface SnapshotReqMessage extends Envelope {
  readonly t: typeof MessageType.SNAPSHOT_REQ;
  readonly cursor: string | null;
}

/**
 * Whole objects after the requested cursor; `cursor` resumes after them (null: last chunk).
 * `start` is the server's digest when it opened this session, sent with the session's first
 * chunk, so a requester that switched servers can cover only what every server held.
 */
export interface SnapshotChunkMessage extends Envelope, CollectedInfo {
  readonly t: typeof MessageType.SNAPSHOT_CHUNK;
  readonly records: readonly RecordTuple[];
  readonly cursor: string | null;
  readonly start?: Digest;
}

/** Ends a snapshot: the digest at session start, merged as covers `{origin, from: 0, to}`. */
export interface SnapshotEndMessage extends Envelope {
  readonly t: typeof MessageType.SNAPSHOT_END;
  readonly digest: Digest;
}

/** A command for the node running a capability (routed by a later layer). */
export interface CmdMessage extends Envelope {
  readonly t: typeof MessageType.CMD;
  readonly id: string;
  readonly target: string;
  readonly action: string;
  readonly args: unknown;
  readonly timeoutMs: number;
}

/** A command's outcome. */
export interface CmdResultMessage extends Envelope {
  readonly t: typeof MessageType.CMD_RESULT;
  readonly id: string;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
}

/** A value published on a routing key (bindings). */
export interface PublishMessage extends Envelope {
  readonly t: typeof MessageType.PUBLISH;
  readonly topic: string;
  readonly payload: unknown;
}

/** A graceful leave: the sender's record with status `left`. */
export interface LeaveMessage extends Envelope {
  readonly t: typeof MessageType.LEAVE;
  readonly record: unknown;
}

/**
 * "These watermarks are committed here": sent to a writer after its records were merged and
 * committed, so a write concern (`replicas: N`) can count durable copies.
 */
export interface StoredMessage extends Envelope {
  readonly t: typeof MessageType.STORED;
  readonly digest: Digest;
}

/** Every message of the protocol, discriminated by `t`. */
export type Message =
  | HelloMessage
  | WelcomeMessage
  | SynMessage
  | AckMessage
  | Ack2Message
  | PushMessage
  | ProbeWireMessage
  | SnapshotReqMessage
  | SnapshotChunkMessage
  | SnapshotEndMessage
  | CmdMessage
  | CmdResultMessage
  | PublishMessage
  | LeaveMessage
  | StoredMessage;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A message before the sender stamps `from` and piggybacks gossip. */
export type MessageBody = DistributiveOmit<Message, 'from' | 'gossip'>;

/** The message whose type code is `T`. */
export type MessageOf<T extends MessageType> = Extract<Message, { readonly t: T }>;
