import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/core/ids.ts';
import { laterLife, selfVerdict, type SelfVerdict } from '../../src/membership/self-news.ts';
import type { MemberRecord, MemberStatus } from '../../src/membership/member.ts';

// The pure decisions about a member's own identity: what a node does with news about itself,
// and which later life of a member it must be told of.

const ID = 'ab'.repeat(16) as NodeId;
const rec = (generation: number, incarnation: number, status: MemberStatus = 'alive', extra: Partial<MemberRecord> = {}): MemberRecord => ({
  nodeId: ID,
  name: 'me',
  generation,
  incarnation,
  status,
  addresses: ['10.0.0.1'],
  port: 7400,
  capabilities: [],
  tags: {},
  ...extra,
});

describe('selfVerdict', () => {
  const limits = { maxGeneration: 1000, raisedAboveLive: false };
  const cases: [string, MemberRecord, MemberRecord, Partial<typeof limits>, SelfVerdict][] = [
    ['our own record', rec(5, 2), rec(5, 2), {}, { kind: 'ignore' }],
    ['an older incarnation', rec(5, 2), rec(5, 1, 'dead'), {}, { kind: 'reannounce' }],
    ['an older generation', rec(5, 2), rec(4, 9, 'left'), {}, { kind: 'reannounce' }],
    ['a suspicion at our version', rec(5, 2), rec(5, 2, 'suspect'), {}, { kind: 'refute', incarnation: 3 }],
    ['a death at a higher incarnation', rec(5, 2), rec(5, 4, 'dead'), {}, { kind: 'refute', incarnation: 5 }],
    ['an unbeatable incarnation', rec(5, 2), rec(5, Number.MAX_SAFE_INTEGER, 'dead'), {}, { kind: 'ignore' }],
    ['a dead later life', rec(1, 0), rec(7, 3, 'dead'), {}, { kind: 'raise', generation: 8, live: false }],
    ['a left later life', rec(1, 0), rec(7, 3, 'left'), {}, { kind: 'raise', generation: 8, live: false }],
    ['a live later life', rec(1, 0), rec(7, 3), {}, { kind: 'raise', generation: 8, live: true }],
    ['a suspect later life', rec(1, 0), rec(7, 3, 'suspect'), {}, { kind: 'raise', generation: 8, live: true }],
    ['a second live later life (a copy of us runs)', rec(8, 0), rec(9, 0), { raisedAboveLive: true }, { kind: 'superseded' }],
    ['a dead later life after a live one', rec(8, 0), rec(9, 0, 'dead'), { raisedAboveLive: true }, { kind: 'raise', generation: 10, live: false }],
    ['a later life at the generation bound', rec(1, 0), rec(1000, 0, 'dead'), {}, { kind: 'superseded' }],
    ['a later life after we left', rec(1, 4, 'left'), rec(7, 3, 'dead'), {}, { kind: 'superseded' }],
  ];
  it.each(cases)('%s', (_name, me, claim, overrides, expected) => {
    expect(selfVerdict(me, claim, { ...limits, ...overrides })).toEqual(expected);
  });
});

describe('laterLife', () => {
  it('our record of the member when it is at a higher generation', () => {
    const held = rec(7, 2, 'dead');
    expect(laterLife(rec(1, 0), held, undefined)).toBe(held);
    expect(laterLife(rec(7, 0), held, undefined)).toBeUndefined();
    expect(laterLife(rec(8, 0), held, undefined)).toBeUndefined();
  });

  it("a reaped member's tombstone version, with the member's own fields", () => {
    const hello = rec(1, 0, 'alive', { addresses: ['10.0.0.9'], name: 'restored' });
    expect(laterLife(hello, undefined, [7, 2, 3])).toEqual({ ...hello, generation: 7, incarnation: 2, status: 'left' });
    expect(laterLife(hello, undefined, [7, 2, 2])?.status).toBe('dead');
    expect(laterLife(hello, undefined, [1, 5, 2])).toBeUndefined();
    expect(laterLife(hello, undefined, undefined)).toBeUndefined();
  });
});
