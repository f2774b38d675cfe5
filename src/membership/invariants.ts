import type { NodeId } from '../core/ids.ts';
import type { MemberVersion } from './freshness.ts';
import type { MemberRecord } from './member.ts';

/** What the invariant check reads of a Membership: its state, read-only. */
export interface MembershipState {
  readonly selfId: NodeId;
  readonly self: MemberRecord;
  /** Per other member: its record and whether a suspicion runs. */
  readonly entries: ReadonlyMap<NodeId, { readonly record: MemberRecord; readonly suspicion: unknown }>;
  readonly watched: ReadonlySet<NodeId>;
  readonly tombstones: ReadonlyMap<NodeId, MemberVersion>;
  /** The cached sorted id lists, when built. */
  readonly idLists: { readonly live: readonly NodeId[]; readonly alive: readonly NodeId[] } | undefined;
  /** Lifeguard's local health score, and the multiplier that bounds it. */
  readonly awareness: number;
  readonly awarenessMaxMultiplier: number;
}

/** The sorted ids of alive-or-suspect (`live`) and of alive members among `entries`. */
export function idListsOf(entries: MembershipState['entries']): { live: NodeId[]; alive: NodeId[] } {
  const live: NodeId[] = [];
  const alive: NodeId[] = [];
  for (const [id, e] of entries) {
    const s = e.record.status;
    if (s === 'alive') alive.push(id);
    if (s === 'alive' || s === 'suspect') live.push(id);
  }
  return { live: live.sort(), alive: alive.sort() };
}

/**
 * Every invariant of Membership that `state` violates, described for a human (empty when all
 * hold). The numbers refer to the invariants in Membership's class comment.
 */
export function membershipProblems(state: MembershipState): string[] {
  const out: string[] = [];
  const { selfId, self } = state;
  if (self.nodeId !== selfId) out.push(`own record carries node id ${self.nodeId}, not ${selfId}`);
  if (self.status === 'suspect' || self.status === 'dead') out.push(`own record is ${self.status} (invariant 4: we refute, never accept)`);
  if (state.entries.has(selfId)) out.push(`own node id ${selfId} is a peer entry (invariant 8)`);
  for (const [id, { record, suspicion }] of state.entries) {
    if (record.nodeId !== id) out.push(`entry ${id} holds the record of ${record.nodeId}`);
    const suspect = record.status === 'suspect';
    if (suspect !== (suspicion !== undefined)) out.push(`${id} is ${record.status} ${suspect ? 'without' : 'with'} a running suspicion (invariant 5)`);
    if (!suspect && record.suspectedBy !== undefined) out.push(`${id} is ${record.status} but names a suspecter`);
    if ((record.status !== 'alive') !== state.watched.has(id)) out.push(`${id} is ${record.status} but ${state.watched.has(id) ? 'is' : 'is not'} watched`);
    if (state.tombstones.has(id)) out.push(`${id} is both an entry and a tombstone (invariant 6)`);
  }
  for (const id of state.watched) if (!state.entries.has(id)) out.push(`${id} is watched but not an entry`);
  if (state.idLists !== undefined) {
    const fresh = idListsOf(state.entries);
    for (const which of ['live', 'alive'] as const) {
      if (fresh[which].join() !== state.idLists[which].join()) out.push(`the cached ${which} id list is stale: [${state.idLists[which].join()}] instead of [${fresh[which].join()}]`);
    }
  }
  const max = state.awarenessMaxMultiplier - 1;
  if (!Number.isInteger(state.awareness) || state.awareness < 0 || state.awareness > max) out.push(`awareness ${state.awareness} is outside 0..${max}`);
  return out;
}
