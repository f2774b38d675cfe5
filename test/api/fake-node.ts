import type { CompatPeerView, CompatSyncAnswer, NodeApi, NodeInfo, PeerReplicationView, ReplicaOutcome, WriteOp } from '../../src/api/node-api.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { ChorusError, ErrorCode } from '../../src/core/errors.ts';
import type { NodeId } from '../../src/core/ids.ts';
import type { Json } from '../../src/core/json.ts';
import type { MemberRecord } from '../../src/membership/member.ts';
import { CompatPeers, hostPort, memberView } from '../../src/node/compat-peers.ts';
import { applyWrite, Store, type WriteResult } from '../../src/store/index.ts';

/** This fake node's id. */
export const SELF = 'a0000000000000000000000000000001' as NodeId;
/** Its two peers. */
export const PEER_B = 'b0000000000000000000000000000002' as NodeId;
export const PEER_C = 'c0000000000000000000000000000003' as NodeId;

function member(nodeId: NodeId, name: string, status: MemberRecord['status'], address: string): MemberRecord {
  return { nodeId, name, generation: 1, incarnation: 0, status, addresses: [address], port: 7000, capabilities: [], tags: {} };
}

/**
 * An in-memory NodeApi over a real Store, for in-process HTTP tests. Peers do not exist: write
 * concern answers come from `confirming` (the peers that "stored" everything) at once, and the
 * calls are recorded so tests can check what the route asked for.
 */
export class FakeNode implements NodeApi {
  readonly clock = new ManualClock(1_700_000_000_000);
  readonly store = new Store({ nodeId: SELF, clock: this.clock });
  /** Peers that confirm every write; fewer than required makes awaitReplicas time out. */
  confirming: NodeId[] = [PEER_B];
  readonly awaitCalls: { seq: number; replicas: number | 'all'; timeoutMs: number }[] = [];
  readonly writes: WriteOp[] = [];
  isReady = true;
  stoppingNow = false;
  checks: Record<string, boolean> = { process: true, storage: true, transport: true };
  peers: MemberRecord[] = [member(PEER_B, 'b', 'alive', '10.0.0.2'), member(PEER_C, 'c', 'dead', '10.0.0.3')];
  readonly compat = new CompatPeers();
  /** Addresses the engine would have been told to dial (engine.discovered). */
  readonly dialled: string[] = [];

  async write(op: WriteOp): Promise<WriteResult> {
    if (this.stoppingNow) throw new ChorusError(ErrorCode.ShuttingDown, 'the node is shutting down');
    const result = applyWrite(this.store, op);
    this.writes.push(op);
    return result;
  }

  async awaitReplicas(seq: number, replicas: number | 'all', timeoutMs: number): Promise<ReplicaOutcome> {
    this.awaitCalls.push({ seq, replicas, timeoutMs });
    const required = replicas === 'all' ? this.peers.filter((p) => p.status === 'alive').length : replicas;
    return { ok: this.confirming.length >= required, confirmed: [...this.confirming], required };
  }

  replication(): readonly PeerReplicationView[] {
    return this.peers.map((p) => ({ nodeId: p.nodeId, name: p.name, status: p.status, lagRecords: p.status === 'alive' ? 0 : null, confirmedSeq: p.status === 'alive' ? this.store.digest()[SELF] ?? 0 : 0, lastContactAgoMs: p.status === 'alive' ? 120 : null }));
  }

  ready(): boolean {
    return this.isReady;
  }

  get(id: string): Record<string, Json> | undefined {
    return this.store.get(id);
  }

  list(opts: { prefix?: string; after?: string; limit?: number }): { id: string; fields: Record<string, Json> }[] {
    return this.store.list(opts);
  }

  members(): readonly MemberRecord[] {
    return [member(SELF, 'a', 'alive', '10.0.0.1'), ...this.peers];
  }

  info(): NodeInfo {
    return {
      nodeId: SELF,
      name: 'a',
      mesh: 'home',
      generation: 3,
      integrity: { tombstonesCollected: 0, staleDetected: 0, staleRecordsDropped: 0, supersededRecordsDropped: 0, seqConflicts: 0, ownWritesRenumbered: 0, recentDrops: [] },
      addresses: ['10.0.0.1'],
      port: 7000,
      url: 'http://10.0.0.1:7000',
      uptimeS: 42,
      secure: true,
      bootstrapping: !this.isReady,
      store: this.store.stats(),
      transport: { bytesIn: 10, bytesOut: 20, framesIn: 1, framesOut: 2 },
      peers: this.peers.map((p) => ({ nodeId: p.nodeId, name: p.name, status: p.status, address: `${p.addresses[0] ?? ''}:${p.port}`, link: p.status === 'alive' ? 'open' : 'none' })),
    };
  }

  health(): { ok: boolean; checks: Record<string, boolean> } {
    return { ok: Object.values(this.checks).every(Boolean), checks: { ...this.checks } };
  }

  isStopping(): boolean {
    return this.stoppingNow;
  }

  async compatSync(uuid: string, address: string): Promise<CompatSyncAnswer> {
    this.seen(uuid, address);
    const now = this.clock.now();
    const peers = [...this.peers.map((m) => memberView(m, m.status === 'alive' ? 120 : null, now)), ...this.compat.views(now)];
    return { uuid: SELF, peers: peers.filter((p) => p.uuid !== uuid) };
  }

  async compatIp(uuid: string, ip: string): Promise<CompatPeerView> {
    const m = this.seen(uuid, ip);
    const now = this.clock.now();
    if (m !== undefined) return { ...memberView(m, 0, now), address: hostPort(ip, m.port) };
    return this.compat.view(this.compat.get(uuid) ?? this.compat.seen(uuid, ip, now), now);
  }

  private seen(uuid: string, ip: string): MemberRecord | undefined {
    if (uuid === SELF) throw new ChorusError(ErrorCode.InvalidPeer, `uuid ${uuid} is this node's own id`);
    const m = this.peers.find((p) => p.nodeId === uuid);
    if (m !== undefined) this.dialled.push(hostPort(ip, m.port));
    else this.compat.seen(uuid, ip, this.clock.now());
    return m;
  }
}
