import { isNodeId, type NodeId } from '../core/ids.ts';
import type { MemberRecord, MemberStatus } from './member.ts';

/** A failure-detector message (PING / PING_REQ / PING_ACK on the wire). */
export type ProbeMessage =
  /** Sent to `target`: "are you alive?" */
  | { kind: 'ping'; probeSeq: number; target: NodeId }
  /** Sent to a helper: "probe `target` for me". */
  | { kind: 'ping-req'; probeSeq: number; target: NodeId }
  /** The answer; `target` is the node proven alive. */
  | { kind: 'ack'; probeSeq: number; target: NodeId };

/** What a Membership call asks its caller to do or to know. */
export type MembershipOutput =
  /**
   * Send `message` to `to`: best effort, or over the reliable stream when `reliable` (the
   * fallback ping of an escalated probe, as memberlist's TCP fallback; its ack returns the same way).
   */
  | { type: 'send'; to: NodeId; message: ProbeMessage; reliable?: boolean }
  /** A member's status changed; `previous` is 'unknown' when first learned, `status` is 'removed' when reaped. */
  | { type: 'status'; nodeId: NodeId; previous: MemberStatus | 'unknown'; status: MemberStatus | 'removed'; member: MemberRecord }
  /** A peer introduced itself with our own node id and another boot nonce: a copied data directory. */
  | { type: 'duplicate-identity'; nodeId: NodeId; bootNonce: string }
  /**
   * Our generation went backwards (the mesh remembers a later one) and was raised from
   * `previous` to `generation`: the caller must persist it, so the next start begins above it.
   */
  | { type: 'generation'; previous: number; generation: number };

const KINDS: ReadonlySet<string> = new Set(['ping', 'ping-req', 'ack']);

/** Why `x` is not a well-formed ProbeMessage, or undefined when it is. */
export function probeMessageProblem(x: unknown): string | undefined {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return 'probe message must be an object';
  const m = x as Record<string, unknown>;
  if (typeof m.kind !== 'string' || !KINDS.has(m.kind)) return 'probe message kind must be ping, ping-req or ack';
  if (typeof m.probeSeq !== 'number' || !Number.isSafeInteger(m.probeSeq) || m.probeSeq < 0) return 'probeSeq must be a non-negative safe integer';
  if (!isNodeId(m.target)) return 'probe target must be a node id';
  return undefined;
}
