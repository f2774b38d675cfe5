import type { IntegrityView } from '../node/integrity.ts';
import type { Json } from '../core/json.ts';
import type { MemberRecord } from '../membership/member.ts';
import type { WriteResult } from '../store/store.ts';

export type { WriteOp } from '../store/write-op.ts';
import type { WriteOp } from '../store/write-op.ts';

/** This node as the API shows it. */
export interface NodeInfo {
  readonly nodeId: string;
  readonly name: string;
  readonly mesh: string;
  readonly generation: number;
  readonly addresses: readonly string[];
  readonly port: number;
  readonly url: string;
  readonly uptimeS: number;
  readonly secure: boolean;
  readonly bootstrapping: boolean;
  /** Objects, live fields, tombstones and encoded bytes this replica holds. */
  readonly store: { objects: number; liveFields: number; tombstones: number; encodedBytes: number };
  /** Mesh traffic summed over the links this node holds now (frame bytes, after sealing). */
  readonly transport: { bytesIn: number; bytesOut: number; framesIn: number; framesOut: number };
  readonly peers: readonly { nodeId: string; name: string; status: string; address: string; link: string }[];
  /** Tombstone collection, and every record dropped rather than applied (see decision 0005). */
  readonly integrity: IntegrityView;
}

/** Outcome of waiting for a write concern. */
export interface ReplicaOutcome {
  /** Whether `required` peers confirmed before the timeout. */
  readonly ok: boolean;
  /** Peers (node ids) that confirmed committing the write. */
  readonly confirmed: readonly string[];
  /** How many confirmations were required. */
  readonly required: number;
}

/** One peer's replication state as seen from this node. */
export interface PeerReplicationView {
  readonly nodeId: string;
  readonly name: string;
  readonly status: string;
  /** Records (by sequence numbers) this peer's last known digest lacks of ours; null if never seen. */
  readonly lagRecords: number | null;
  /** Highest seq of this node's writes the peer confirmed committed. */
  readonly confirmedSeq: number;
  /** Milliseconds since the peer was last heard from; null if never. */
  readonly lastContactAgoMs: number | null;
}

/** A peer as the consumer-scheduler compatibility endpoints (seed 004) report it. */
export interface CompatPeerView {
  /** The peer's id: a mesh member's node id, or the uuid a compat peer sent. */
  readonly uuid: string;
  /** Where it is reached: host:port for a mesh member, the IP a compat peer spoke from or announced. */
  readonly address: string;
  readonly available: boolean;
  /** ISO 8601 time the peer was last heard from, null if never. */
  readonly lastSeen: string | null;
  /** 'member' for a mesh member, 'compat' for a peer known only through /sync and /ip. */
  readonly kind: 'member' | 'compat';
}

/** The answer to POST /sync: our id and the peers we know. */
export interface CompatSyncAnswer {
  readonly uuid: string;
  readonly peers: readonly CompatPeerView[];
}

/** What the HTTP layer needs from a running node; the runtime implements it. */
export interface NodeApi {
  /** Applies a local write and resolves once it is committed to local storage. */
  write(op: WriteOp): Promise<WriteResult>;
  /** Waits until `replicas` peers (or all alive ones) confirm committing our writes up to `seq`. */
  awaitReplicas(seq: number, replicas: number | 'all', timeoutMs: number): Promise<ReplicaOutcome>;
  /** Per-peer replication lag and last contact. */
  replication(): readonly PeerReplicationView[];
  /** True once bootstrap (if any) is done and the node serves a full copy. */
  ready(): boolean;
  get(id: string): Record<string, Json> | undefined;
  list(opts: { prefix?: string; after?: string; limit?: number }): { id: string; fields: Record<string, Json> }[];
  members(): readonly MemberRecord[];
  info(): NodeInfo;
  health(): { ok: boolean; checks: Record<string, boolean> };
  /** True once shutdown began: the API answers 503 from then on. */
  isStopping(): boolean;
  /** POST /sync: records `uuid` at `address` as an available peer; resolves once stored. */
  compatSync(uuid: string, address: string): Promise<CompatSyncAnswer>;
  /** POST /ip: peer `uuid` now lives at `ip` (same identity); resolves once stored. */
  compatIp(uuid: string, ip: string): Promise<CompatPeerView>;
}
