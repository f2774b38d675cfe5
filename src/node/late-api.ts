import type { CompatPeerView, CompatSyncAnswer, NodeApi, NodeInfo, PeerReplicationView, ReplicaOutcome, WriteOp } from '../api/node-api.ts';
import { ChorusError, ErrorCode } from '../core/errors.ts';
import type { Json } from '../core/json.ts';
import type { MemberRecord } from '../membership/member.ts';
import type { WriteResult } from '../store/index.ts';

/** An API whose node is attached after construction (HTTP must listen before the engine exists). */
export class LateApi implements NodeApi {
  node: NodeApi | undefined;
  private get n(): NodeApi {
    if (this.node === undefined) throw new ChorusError(ErrorCode.NotReady, 'the node is starting');
    return this.node;
  }
  write(op: WriteOp): Promise<WriteResult> {
    return this.n.write(op);
  }
  awaitReplicas(seq: number, replicas: number | 'all', timeoutMs: number): Promise<ReplicaOutcome> {
    return this.n.awaitReplicas(seq, replicas, timeoutMs);
  }
  replication(): readonly PeerReplicationView[] {
    return this.n.replication();
  }
  ready(): boolean {
    return this.node?.ready() ?? false;
  }
  get(id: string): Record<string, Json> | undefined {
    return this.n.get(id);
  }
  list(opts: { prefix?: string; after?: string; limit?: number }): { id: string; fields: Record<string, Json> }[] {
    return this.n.list(opts);
  }
  members(): readonly MemberRecord[] {
    return this.n.members();
  }
  info(): NodeInfo {
    return this.n.info();
  }
  health(): { ok: boolean; checks: Record<string, boolean> } {
    return this.node === undefined ? { ok: false, checks: { process: true, storage: false, transport: false } } : this.node.health();
  }
  isStopping(): boolean {
    return this.node?.isStopping() ?? false;
  }
  compatSync(uuid: string, address: string): Promise<CompatSyncAnswer> {
    return this.n.compatSync(uuid, address);
  }
  compatIp(uuid: string, ip: string): Promise<CompatPeerView> {
    return this.n.compatIp(uuid, ip);
  }
}

