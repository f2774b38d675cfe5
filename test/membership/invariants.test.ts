import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/core/ids.ts';
import { idListsOf, membershipProblems, type MembershipState } from '../../src/membership/invariants.ts';
import type { MemberRecord, MemberStatus } from '../../src/membership/member.ts';

// The pure invariant check Membership.checkInvariants() runs: a sound state passes, and each
// kind of damage is named.

const id = (n: number): NodeId => n.toString(16).padStart(32, '0') as NodeId;
const rec = (n: number, status: MemberStatus = 'alive', extra: Partial<MemberRecord> = {}): MemberRecord => ({
  nodeId: id(n),
  name: `n${n}`,
  generation: 1,
  incarnation: 0,
  status,
  addresses: [],
  port: 1,
  capabilities: [],
  tags: {},
  ...extra,
});

/** Self 1; 2 alive, 3 suspect (suspicion running), 4 dead (watched); 5 reaped. */
function sound(): MembershipState & { entries: Map<NodeId, { record: MemberRecord; suspicion: unknown }>; watched: Set<NodeId>; tombstones: Map<NodeId, readonly [number, number, number]> } {
  const entries = new Map<NodeId, { record: MemberRecord; suspicion: unknown }>([
    [id(2), { record: rec(2), suspicion: undefined }],
    [id(3), { record: rec(3, 'suspect', { suspectedBy: id(2) }), suspicion: {} }],
    [id(4), { record: rec(4, 'dead'), suspicion: undefined }],
  ]);
  return { selfId: id(1), self: rec(1), entries, watched: new Set([id(3), id(4)]), tombstones: new Map([[id(5), [1, 0, 2] as const]]), idLists: idListsOf(entries), awareness: 7, awarenessMaxMultiplier: 8 };
}

describe('membershipProblems', () => {
  it('a sound state has none', () => {
    expect(membershipProblems(sound())).toEqual([]);
    expect(membershipProblems({ ...sound(), idLists: undefined })).toEqual([]);
  });

  const damage: [string, (s: ReturnType<typeof sound>) => MembershipState, RegExp][] = [
    ['own record suspect', (s) => ({ ...s, self: rec(1, 'suspect') }), /own record is suspect/],
    ['own record dead', (s) => ({ ...s, self: rec(1, 'dead') }), /own record is dead/],
    ['own id as an entry', (s) => (s.entries.set(id(1), { record: rec(1), suspicion: undefined }), s), /own node id .* is a peer entry/],
    ['a suspect without suspicion', (s) => (s.entries.set(id(3), { record: rec(3, 'suspect'), suspicion: undefined }), s), /is suspect without a running suspicion/],
    ['an alive member with a suspicion', (s) => (s.entries.set(id(2), { record: rec(2), suspicion: {} }), s), /is alive with a running suspicion/],
    ['a dead member not watched', (s) => (s.watched.delete(id(4)), s), /is dead but is not watched/],
    ['an alive member watched', (s) => (s.watched.add(id(2)), s), /is alive but is watched/],
    ['a watched id without entry', (s) => (s.watched.add(id(9)), s), /watched but not an entry/],
    ['an entry that is also a tombstone', (s) => (s.tombstones.set(id(2), [1, 0, 2]), s), /both an entry and a tombstone/],
    ['a stale cached list', (s) => ({ ...s, idLists: { live: [id(2)], alive: [id(2)] } }), /cached live id list is stale/],
    ['an awareness score above the bound', (s) => ({ ...s, awareness: 8 }), /awareness 8 is outside 0\.\.7/],
    ['a negative awareness score', (s) => ({ ...s, awareness: -1 }), /awareness -1 is outside/],
    ['a record under another key', (s) => (s.entries.set(id(6), { record: rec(7), suspicion: undefined }), { ...s, idLists: idListsOf(s.entries) }), /entry .* holds the record of/],
  ];
  it.each(damage)('names %s', (_name, hurt, expected) => {
    const problems = membershipProblems(hurt(sound()));
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toMatch(expected);
  });
});
