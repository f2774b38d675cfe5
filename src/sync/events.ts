import type { Timestamp } from '../core/hlc.ts';
import type { NodeId } from '../core/ids.ts';
import type { MemberRecord, MemberStatus } from '../membership/member.ts';
import type { ObjectChange } from '../store/changes.ts';
import type { StoreRecord } from '../store/record.ts';
import type { Message } from './messages.ts';

/** Which transport channel a message needs: best-effort datagrams or the reliable ordered stream. */
export type Channel = 'packet' | 'stream';

/** A message the caller must send to `to` ('host:port'). */
export interface Outbound {
  readonly to: string;
  readonly message: Message;
  readonly channel: Channel;
}

/** What happened inside an Engine that its runtime may want to show, log or check. */
export type EngineEvent =
  /** A member's status changed in our view (as the membership core reported it). */
  | {
      readonly type: 'member';
      readonly nodeId: NodeId;
      readonly previous: MemberStatus | 'unknown';
      readonly status: MemberStatus | 'removed';
      readonly member: MemberRecord;
    }
  /** Visible object changes from a local write or from records merged from peers. */
  | { readonly type: 'change'; readonly changes: readonly ObjectChange[]; readonly origin: 'local' | 'remote' }
  /** A peer uses our node id with another boot nonce (a copied data directory); it is refused. */
  | { readonly type: 'duplicate-identity'; readonly nodeId: NodeId; readonly bootNonce: string; readonly address?: string }
  /**
   * Our generation went backwards (a restored data directory, a deleted generation file): the
   * mesh remembered a later one, so it was raised from `previous` to `generation`. The runtime
   * must persist it so that the next start begins above it.
   */
  | { readonly type: 'generation'; readonly previous: number; readonly generation: number }
  /** Snapshot bootstrap progress; `from` is the peer streaming it. */
  | { readonly type: 'bootstrap'; readonly phase: 'started' | 'done'; readonly from: NodeId }
  /**
   * Records dropped visibly rather than applied or kept: 'stale' — older than the collection
   * horizon of a peer that never saw them, so they may belong to an object whose deletion was
   * collected (P1 and P2 conflict; P2 wins); 'seq-conflict' — another record already holds
   * their (origin, seq).
   */
  | { readonly type: 'records-dropped'; readonly reason: 'stale' | 'seq-conflict'; readonly records: readonly StoreRecord[]; readonly horizon?: Timestamp }
  /** An inbound message was dropped or a handshake refused; `reason` is the counted reason. */
  | { readonly type: 'dropped'; readonly reason: string; readonly from: string };
