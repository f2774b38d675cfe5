import type { NodeId } from '../core/ids.ts';

/** A member's liveness as its owner or the failure detector last declared it. */
export type MemberStatus = 'alive' | 'suspect' | 'dead' | 'left';

/** Rank used by the freshness comparator: at equal versions, closer to down wins. */
export const STATUS_RANK: Readonly<Record<MemberStatus, number>> = { alive: 0, suspect: 1, dead: 2, left: 3 };

/**
 * What the mesh knows about one node. Only the owner writes `generation`, `incarnation`,
 * `addresses`, `port`, `capabilities` and `tags`; others may only raise `status` to suspect
 * or dead at the owner's current version (which the owner refutes with a higher incarnation).
 */
export interface MemberRecord {
  readonly nodeId: NodeId;
  readonly name: string;
  /** Persisted, +1 at every start (ESPGossip's revision). */
  readonly generation: number;
  /** Raised by the owner to refute suspicion or announce a change within one run. */
  readonly incarnation: number;
  readonly status: MemberStatus;
  readonly addresses: readonly string[];
  readonly port: number;
  /** Plugins (device capabilities) this node runs. */
  readonly capabilities: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  /**
   * Only while status is suspect: the member that raised the suspicion, or last confirmed it
   * independently (its own probe failed). Lifeguard counts distinct suspecters as
   * confirmations; without this, every relay of one suspicion would look independent.
   */
  readonly suspectedBy?: NodeId;
}
