import { cleanMember, compareFreshness, statusOfRank, type MemberVersion } from './freshness.ts';
import type { MemberRecord } from './member.ts';

// What news about a member's own identity calls for, as pure functions: the news a node
// hears about itself (refute it, re-announce, or continue above a later life of its own),
// and the later life another node must be told of when its generation went backwards.

/** What a node does with a record about itself that it did not write. */
export type SelfVerdict =
  /** Same as ours, or nothing we can act on. */
  | { readonly kind: 'ignore' }
  /** Older than ours: its sender needs our record. */
  | { readonly kind: 'reannounce' }
  /** A claim at our generation, fresher than our record (suspect, dead, a higher incarnation): outbid it. */
  | { readonly kind: 'refute'; readonly incarnation: number }
  /** The mesh remembers a later life of ours: our generation went backwards; continue above it. */
  | { readonly kind: 'raise'; readonly generation: number; readonly live: boolean }
  /** A later life we must not continue above (see selfVerdict): counted, nothing more. */
  | { readonly kind: 'superseded' };

/** What selfVerdict needs to know besides the two records. */
export interface SelfVerdictLimits {
  /** The highest generation accepted now (maxGeneration of the wall clock). */
  readonly maxGeneration: number;
  /** Whether we already raised our generation above a live (alive or suspect) later life in this run. */
  readonly raisedAboveLive: boolean;
}

/**
 * The verdict on `claim`, a well-formed record about ourselves, given our record `me`.
 * A later life (higher generation) is continued above at generation + 1, unless we left,
 * the result would exceed maxGeneration, or it is live while we already raised above a live
 * one in this run: two processes sharing an identity (a copied data directory) would
 * otherwise outbid each other forever; one raise lets a restart that beat the mesh's failure
 * detection through, and a dead or left later life is always a past one.
 */
export function selfVerdict(me: MemberRecord, claim: MemberRecord, limits: SelfVerdictLimits): SelfVerdict {
  const order = compareFreshness(claim, me);
  if (order < 0) return { kind: 'reannounce' };
  if (claim.generation > me.generation) {
    const generation = claim.generation + 1;
    const live = claim.status === 'alive' || claim.status === 'suspect';
    if (me.status === 'left' || generation > limits.maxGeneration || (live && limits.raisedAboveLive)) return { kind: 'superseded' };
    return { kind: 'raise', generation, live };
  }
  // Same generation from here on.
  if (order === 0 || claim.incarnation >= Number.MAX_SAFE_INTEGER) return { kind: 'ignore' };
  return { kind: 'refute', incarnation: claim.incarnation + 1 };
}

/**
 * What we remember of `record`'s member at a higher generation than `record` carries: our
 * record of it (`held`), or a reaped member's tombstone version with `record`'s own fields.
 * Undefined when we remember nothing later. Told to the member, it continues above it.
 */
export function laterLife(record: MemberRecord, held: MemberRecord | undefined, tombstone: MemberVersion | undefined): MemberRecord | undefined {
  if (held !== undefined) return held.generation > record.generation ? held : undefined;
  if (tombstone === undefined || tombstone[0] <= record.generation) return undefined;
  const status = statusOfRank(tombstone[2]);
  if (status === undefined) return undefined;
  return Object.freeze({ ...cleanMember({ ...record, status }), generation: tombstone[0], incarnation: tombstone[1] });
}
