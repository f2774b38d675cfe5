import { describe, expect, it } from 'vitest';
import { ErrorCode, isChorusError } from '../../src/core/errors.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { Store, TOMBSTONE } from '../../src/store/index.ts';
import { canonicalHash, makeReplicas, NODE_IDS } from './helpers.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isChorusError(e)) return e.code;
    throw e;
  }
  return undefined;
}

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

const cyclic: Record<string, unknown> = { a: 1 };
cyclic.self = cyclic;
const cyclicArray: unknown[] = [1];
cyclicArray.push(cyclicArray);

describe('object ids', () => {
  it.each([
    ['empty', '', ErrorCode.InvalidObjectId],
    ['257 characters', 'x'.repeat(257), ErrorCode.InvalidObjectId],
    ['a newline', 'lamp\nkitchen', ErrorCode.InvalidObjectId],
    ['a NUL', 'lamp\u0000', ErrorCode.InvalidObjectId],
    ['DEL', 'lamp\u007f', ErrorCode.InvalidObjectId],
    ['a C1 control', 'lamp\u0085', ErrorCode.InvalidObjectId],
    ['an unpaired surrogate', 'lamp\ud800', ErrorCode.InvalidObjectId],
    ['256 characters', 'x'.repeat(256), undefined],
    ['unicode', 'Küche/licht-💡', undefined],
  ])('%s → %s', (_name, id, code) => {
    const [r] = makeReplicas(1);
    expect(codeOf(() => r!.store.patch(id, { on: true }))).toBe(code);
    expect(codeOf(() => r!.store.put(id, { on: true }))).toBe(code);
    expect(codeOf(() => r!.store.deleteObject(id))).toBe(code);
  });
});

describe('field names', () => {
  it.each([
    ['__proto__', ErrorCode.InvalidFieldName],
    ['constructor', ErrorCode.InvalidFieldName],
    ['prototype', ErrorCode.InvalidFieldName],
    ['', ErrorCode.InvalidFieldName],
    ['bad\tname', ErrorCode.InvalidFieldName],
    ['lone\udc00', ErrorCode.InvalidFieldName],
    ['x'.repeat(257), ErrorCode.InvalidFieldName],
    ['location', undefined],
    ['__proto', undefined],
  ])('%j → %s', (name, code) => {
    const [r] = makeReplicas(1);
    // JSON.parse makes "__proto__" an own key, as a REST body would.
    const fields = JSON.parse(`{${JSON.stringify(name)}: 1}`) as Record<string, unknown>;
    expect(codeOf(() => r!.store.patch('lamp', fields))).toBe(code);
    expect(codeOf(() => r!.store.deleteField('lamp', name))).toBe(code);
  });
});

describe('values', () => {
  it.each([
    ['undefined', undefined, ErrorCode.NotJson],
    ['a function', () => 1, ErrorCode.NotJson],
    ['a symbol', Symbol('s'), ErrorCode.NotJson],
    ['a bigint', 10n, ErrorCode.NotJson],
    ['NaN', NaN, ErrorCode.NotJson],
    ['Infinity', Infinity, ErrorCode.NotJson],
    ['-Infinity', -Infinity, ErrorCode.NotJson],
    ['a nested NaN', { a: [1, NaN] }, ErrorCode.NotJson],
    ['a nested undefined', { a: undefined }, ErrorCode.NotJson],
    ['a cyclic object', cyclic, ErrorCode.NotJson],
    ['a cyclic array', cyclicArray, ErrorCode.NotJson],
    ['a Date', new Date(0), ErrorCode.NotJson],
    ['a Map', new Map(), ErrorCode.NotJson],
    // eslint-disable-next-line no-sparse-arrays -- the hole is the point of this case
    ['a sparse array', [1, , 3], ErrorCode.NotJson],
    ['a string with an unpaired surrogate', 'x\ud83d', ErrorCode.NotJson],
    ['a key with an unpaired surrogate', { 'k\ud83d': 1 }, ErrorCode.NotJson],
    ['33 levels deep', nested(33), ErrorCode.TooDeep],
    ['32 levels deep', nested(32), undefined],
    ['over 64 KiB', 'x'.repeat(64 * 1024), ErrorCode.TooLarge],
    ['over 64 KiB in an array', Array.from({ length: 2000 }, () => 'y'.repeat(40)), ErrorCode.TooLarge],
    ['just under 64 KiB', 'x'.repeat(64 * 1024 - 8), undefined],
    ['null', null, undefined],
    ['a rich object', { x: 1.5, y: [true, 'z', null], z: { deep: { er: -3 } } }, undefined],
  ])('%s → %s', (_name, value, code) => {
    const [r] = makeReplicas(1);
    expect(codeOf(() => r!.store.patch('lamp', { v: value }))).toBe(code);
    expect(codeOf(() => r!.store.put('lamp', { v: value }))).toBe(code);
  });

  it('respects a configured per-field limit', () => {
    const small = new Store({ nodeId: NODE_IDS[0]!, clock: new ManualClock(0), options: { maxFieldBytes: 100 } });
    expect(codeOf(() => small.patch('lamp', { v: 'x'.repeat(200) }))).toBe(ErrorCode.TooLarge);
    expect(codeOf(() => small.patch('lamp', { v: 'x'.repeat(50) }))).toBeUndefined();
  });
});

describe('fields argument', () => {
  it.each([
    ['null', null],
    ['an array', [1, 2]],
    ['a string', 'on'],
    ['a number', 3],
  ])('%s is refused', (_name, fields) => {
    const [r] = makeReplicas(1);
    expect(codeOf(() => r!.store.put('lamp', fields))).toBe(ErrorCode.InvalidFields);
    expect(codeOf(() => r!.store.patch('lamp', fields))).toBe(ErrorCode.InvalidFields);
  });

  it('an empty patch is refused, an empty put creates an empty object', () => {
    const [r] = makeReplicas(1);
    expect(codeOf(() => r!.store.patch('lamp', {}))).toBe(ErrorCode.InvalidFields);
    r!.store.put('lamp', {});
    expect(r!.store.get('lamp')).toEqual({});
  });
});

describe('a refused write changes nothing', () => {
  it('leaves every stored field and the digest as they were', () => {
    const [r] = makeReplicas(1);
    r!.store.put('lamp', { on: true, level: 3 });
    const before = canonicalHash(r!.store);
    const digest = r!.store.digest();
    // The bad field comes after a good one: the whole write must be refused atomically.
    expect(codeOf(() => r!.store.patch('lamp', { level: 9, bad: NaN }))).toBe(ErrorCode.NotJson);
    expect(codeOf(() => r!.store.put('lamp', { level: 9, constructor: 1 }))).toBe(ErrorCode.InvalidFieldName);
    expect(canonicalHash(r!.store)).toBe(before);
    expect(r!.store.digest()).toEqual(digest);
    expect(r!.store.get('lamp')).toEqual({ level: 3, on: true });
  });
});

describe('merging malformed remote records', () => {
  it('drops and counts each bad record, applies the rest', () => {
    const [src, dst] = makeReplicas(2);
    const good = src!.store.patch('lamp', { on: true }).records[0]!;
    const good2 = src!.store.patch('door', { open: false }).records[0]!;
    const bad: unknown[] = [
      null,
      42,
      'record',
      { ...good, objectId: '' },
      { ...good, objectId: 'x'.repeat(300) },
      { ...good, field: '__proto__' },
      { ...good, value: NaN },
      { ...good, value: undefined },
      { ...good, value: 'x'.repeat(70_000) },
      { ...good, value: nested(40) },
      { ...good, origin: 'not-a-node' },
      { ...good, seq: 0 },
      { ...good, seq: 1.5 },
      { ...good, ts: { ms: -1, lc: 0 } },
      { ...good, ts: 'yesterday' },
      { ...good, field: '', value: 5 },
      { ...good, seq: 99, ts: { ms: good.ts.ms + 3_600_000, lc: 0 } },
    ];
    const res = dst!.store.merge([bad[0], good, ...bad.slice(1), good2]);
    expect(res.records).toEqual([good, good2]);
    const counted = Object.values(res.rejected).reduce((a, b) => a + (b ?? 0), 0);
    expect(counted).toBe(bad.length);
    expect(res.rejected[ErrorCode.ClockDrift]).toBe(1);
    expect(res.rejected[ErrorCode.InvalidObjectId]).toBe(2);
    expect(res.rejected[ErrorCode.TooLarge]).toBe(1);
    expect(res.rejected[ErrorCode.TooDeep]).toBe(1);
    expect(res.rejected[ErrorCode.NotJson]).toBe(2);
    expect(res.rejected[ErrorCode.InvalidFieldName]).toBe(1);
    expect(dst!.store.rejections()).toEqual(res.rejected);
    expect(dst!.store.get('lamp')).toEqual({ on: true });
    expect(dst!.store.get('door')).toEqual({ open: false });
  });

  it('a stamp with a logical counter past MAX_LOGICAL is refused, counted, and leaves our stamps valid', () => {
    const [src, dst] = makeReplicas(2);
    const good = src!.store.patch('lamp', { on: true }).records[0]!;
    const hostile = { ...good, seq: 2, field: 'level', value: 1, ts: { ms: good.ts.ms, lc: Number.MAX_SAFE_INTEGER } };
    const res = dst!.store.merge([good, hostile]);
    expect(res.records).toEqual([good]);
    expect(res.rejected).toEqual({ [ErrorCode.MalformedRecord]: 1 });
    expect(dst!.store.rejections()).toEqual({ [ErrorCode.MalformedRecord]: 1 });
    // Our own next stamps stay safe: a peer (and we ourselves, on reload) accept them.
    const mine = dst!.store.patch('lamp', { level: 2 }).records;
    expect(src!.store.merge(mine).rejected).toEqual({});
    const reloaded = new Store({ nodeId: NODE_IDS[1]!, clock: new ManualClock(good.ts.ms) });
    expect(reloaded.load([...dst!.store.records()], dst!.store.digest()).rejected).toEqual({});
  });

  it('a refused record keeps the digest from skipping past it', () => {
    const [src, dst] = makeReplicas(2);
    src!.store.patch('a', { v: 1 });
    src!.clock.advance(120_000); // src's clock runs 2 minutes ahead of dst's
    src!.store.patch('b', { v: 2 });
    src!.store.patch('c', { v: 3 });
    const batch = src!.store.deltasFor(dst!.store.digest());
    const res = dst!.store.merge(batch.records, batch.covers);
    expect(res.rejected[ErrorCode.ClockDrift]).toBe(2);
    expect(dst!.store.digest()).toEqual({ [NODE_IDS[0]!]: 1 });
    // Once dst's clock catches up, the next round delivers them.
    dst!.clock.advance(120_000);
    const again = src!.store.deltasFor(dst!.store.digest());
    dst!.store.merge(again.records, again.covers);
    expect(dst!.store.get('c')).toEqual({ v: 3 });
    expect(canonicalHash(dst!.store)).toBe(canonicalHash(src!.store));
  });

  it('treats a tombstone value as a tombstone, not as data', () => {
    const [src, dst] = makeReplicas(2);
    src!.store.patch('lamp', { on: true });
    const del = src!.store.deleteField('lamp', 'on').records[0]!;
    expect(del.value).toBe(TOMBSTONE);
    dst!.store.merge([...src!.store.deltasFor({}).records]);
    expect(dst!.store.get('lamp')).toBeUndefined();
  });
});
