import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/core/ids.ts';
import {
  cleanMember,
  compareFreshness,
  compareVersion,
  isFresherUpdate,
  maxGeneration,
  memberProblem,
  parseVersion,
  type MemberRecord,
} from '../../src/membership/index.ts';

const ID = '0123456789abcdef0123456789abcdef' as NodeId;

const rec = (generation: number, incarnation: number, status: MemberRecord['status'], extra: Partial<MemberRecord> = {}): MemberRecord => ({
  nodeId: ID,
  name: 'kitchen',
  generation,
  incarnation,
  status,
  addresses: ['192.168.1.20'],
  port: 7400,
  capabilities: ['hue'],
  tags: { room: 'kitchen' },
  ...extra,
});

describe('compareFreshness (ESPGossip: revision, then heartbeat, then the state closer to down)', () => {
  const cases: [string, MemberRecord, MemberRecord, number][] = [
    ['higher revision (generation) wins over anything older', rec(2, 0, 'alive'), rec(1, 99, 'left'), 1],
    ['lower revision loses', rec(1, 99, 'dead'), rec(2, 0, 'alive'), -1],
    ['equal revision: higher heartbeat (incarnation) wins', rec(3, 5, 'alive'), rec(3, 4, 'dead'), 1],
    ['equal revision: lower heartbeat loses', rec(3, 4, 'left'), rec(3, 5, 'alive'), -1],
    ['equal versions: suspect beats alive', rec(3, 4, 'suspect'), rec(3, 4, 'alive'), 1],
    ['equal versions: dead beats suspect', rec(3, 4, 'dead'), rec(3, 4, 'suspect'), 1],
    ['equal versions: left beats dead', rec(3, 4, 'left'), rec(3, 4, 'dead'), 1],
    ['equal versions: alive loses to dead', rec(3, 4, 'alive'), rec(3, 4, 'dead'), -1],
    ['identical versions are equal', rec(3, 4, 'alive'), rec(3, 4, 'alive', { name: 'other' }), 0],
  ];
  it.each(cases)('%s', (_name, a, b, sign) => {
    expect(Math.sign(compareFreshness(a, b))).toBe(sign);
    expect(Math.sign(compareFreshness(b, a))).toBe(-sign || 0);
  });

  it('compareVersion agrees on digest triples', () => {
    expect(compareVersion([2, 0, 0], [1, 9, 3])).toBe(1);
    expect(compareVersion([1, 9, 0], [1, 9, 2])).toBe(-1);
    expect(compareVersion([1, 9, 2], [1, 9, 2])).toBe(0);
  });
});

describe('malformed entries never win', () => {
  const current = rec(1, 0, 'alive');
  const malformed: [string, unknown][] = [
    ['a generation beyond safe integers', { ...rec(1, 0, 'alive'), generation: 2 ** 60 }],
    ['a negative generation', { ...rec(1, 0, 'alive'), generation: -1 }],
    ['a fractional incarnation', { ...rec(1, 0, 'alive'), incarnation: 1.5 }],
    ['an unknown status', { ...rec(9, 0, 'alive'), status: 'zombie' }],
    ['a bad node id', { ...rec(9, 0, 'alive'), nodeId: 'ABC' }],
    ['a missing field', (({ port: _port, ...rest }) => rest)(rec(9, 0, 'alive'))],
    ['null', null],
    ['an array', [ID, 9, 0]],
  ];
  it.each(malformed)('%s is rejected before comparison', (_name, x) => {
    expect(memberProblem(x)).toBeTypeOf('string');
    expect(isFresherUpdate(x, current)).toBe(false);
    expect(isFresherUpdate(x, undefined)).toBe(false);
  });

  it('a well-formed fresher entry does win', () => {
    expect(isFresherUpdate(rec(2, 0, 'alive'), current)).toBe(true);
    expect(isFresherUpdate(rec(1, 0, 'alive'), current)).toBe(false);
  });
});

describe('memberProblem', () => {
  const bad: [string, unknown, RegExp][] = [
    ['nodeId', { ...rec(1, 0, 'alive'), nodeId: 42 }, /nodeId/],
    ['name type', { ...rec(1, 0, 'alive'), name: 7 }, /name/],
    ['name length', rec(1, 0, 'alive', { name: 'x'.repeat(129) }), /name is 129/],
    ['generation', { ...rec(1, 0, 'alive'), generation: '1' }, /generation/],
    ['incarnation', { ...rec(1, 0, 'alive'), incarnation: Number.NaN }, /incarnation/],
    ['status', { ...rec(1, 0, 'alive'), status: 'up' }, /status/],
    ['addresses type', { ...rec(1, 0, 'alive'), addresses: '10.0.0.1' }, /addresses must be an array/],
    ['addresses count', rec(1, 0, 'alive', { addresses: Array.from({ length: 17 }, (_, i) => `10.0.0.${i}`) }), /addresses has 17/],
    ['address length', rec(1, 0, 'alive', { addresses: ['a'.repeat(65)] }), /65 characters/],
    ['address type', { ...rec(1, 0, 'alive'), addresses: [1] }, /addresses entries/],
    ['port range', rec(1, 0, 'alive', { port: 65536 }), /port/],
    ['port integer', rec(1, 0, 'alive', { port: 80.5 }), /port/],
    ['capabilities count', rec(1, 0, 'alive', { capabilities: Array.from({ length: 65 }, (_, i) => `c${i}`) }), /capabilities has 65/],
    ['capability type', { ...rec(1, 0, 'alive'), capabilities: [null] }, /capabilities entries/],
    ['tags type', { ...rec(1, 0, 'alive'), tags: ['a'] }, /tags must be an object/],
    ['tags count', rec(1, 0, 'alive', { tags: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }), /tags has 65/],
    ['tag value', { ...rec(1, 0, 'alive'), tags: { room: 3 } }, /tag "room"/],
    ['suspectedBy', { ...rec(1, 0, 'suspect'), suspectedBy: 'someone' }, /suspectedBy/],
  ];
  it.each(bad)('names the problem: %s', (_name, x, pattern) => {
    expect(memberProblem(x)).toMatch(pattern);
  });

  it('accepts the limits exactly', () => {
    const atLimits = rec(0, 0, 'left', {
      name: 'n'.repeat(128),
      addresses: Array.from({ length: 16 }, () => 'a'.repeat(64)),
      port: 65535,
      capabilities: Array.from({ length: 64 }, (_, i) => `c${i}`),
      tags: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, 'v'])),
    });
    expect(memberProblem(atLimits)).toBeUndefined();
  });

  it('cleanMember keeps suspectedBy on a suspect record only', () => {
    const by = 'f'.repeat(32) as NodeId;
    expect(cleanMember(rec(1, 0, 'suspect', { suspectedBy: by })).suspectedBy).toBe(by);
    expect(cleanMember(rec(1, 0, 'dead', { suspectedBy: by }))).not.toHaveProperty('suspectedBy');
  });

  it('cleanMember keeps only the known fields and freezes them', () => {
    const clean = cleanMember({ ...rec(1, 0, 'alive'), extra: 'dropped' } as MemberRecord);
    expect(clean).toEqual(rec(1, 0, 'alive'));
    expect(Object.isFrozen(clean) && Object.isFrozen(clean.addresses) && Object.isFrozen(clean.tags)).toBe(true);
  });
});

describe('maxGeneration and digest entries', () => {
  it('bounds generations by epoch seconds one year ahead; small counters always pass', () => {
    const year = 365 * 24 * 3600 * 1000;
    expect(maxGeneration(0, year)).toBe(31_536_000);
    expect(maxGeneration(1_700_000_000_000, year)).toBe(1_700_000_000 + 31_536_000);
    expect(maxGeneration(1_700_000_000_999, 0)).toBe(1_700_000_000);
  });

  it('parseVersion accepts [generation, incarnation, rank] only', () => {
    expect(parseVersion([1, 2, 3])).toEqual([1, 2, 3]);
    for (const bad of [[1, 2, 4], [1, 2], [1, -2, 0], [1, 2, 0.5], '1,2,3', null, { 0: 1, 1: 2, 2: 3, length: 3 }]) {
      expect(parseVersion(bad)).toBeUndefined();
    }
  });
});
