import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { decodeRecords, encodeRecords, Store } from '../../src/store/index.ts';
import { canonicalHash, makeReplicas, NODE_IDS, repairAll } from './helpers.ts';

const DAY = 24 * 3600 * 1000;

describe('object lifecycle', () => {
  it('delete then write again later brings the object back with only the new fields', () => {
    const [a, b] = makeReplicas(2);
    a!.store.put('lamp', { on: true, level: 5 });
    a!.clock.advance(10);
    a!.store.deleteObject('lamp');
    expect(a!.store.get('lamp')).toBeUndefined();
    a!.clock.advance(10);
    a!.store.patch('lamp', { on: false });
    expect(a!.store.get('lamp')).toEqual({ on: false });
    repairAll([a!, b!]);
    expect(b!.store.get('lamp')).toEqual({ on: false });
  });

  it('a delete never loses to an older write, whatever the arrival order', () => {
    const [a, b, c] = makeReplicas(3);
    const write = a!.store.patch('lamp', { on: true }).records; // older
    b!.clock.advance(50);
    const del = b!.store.deleteObject('lamp').records; // newer
    c!.store.merge(del);
    c!.store.merge(write); // the older write arrives after the delete
    expect(c!.store.get('lamp')).toBeUndefined();
    expect(c!.store.has('lamp')).toBe(false);
  });

  it('a write older than a delete never resurrects the object, a newer one does', () => {
    const [a, b] = makeReplicas(2);
    a!.store.put('lamp', { on: true });
    repairAll([a!, b!]);
    b!.clock.advance(100);
    b!.store.deleteObject('lamp');
    a!.clock.advance(50); // concurrent, but stamped before the delete
    a!.store.patch('lamp', { level: 3 });
    repairAll([a!, b!]);
    expect(a!.store.get('lamp')).toBeUndefined();
    expect(b!.store.get('lamp')).toBeUndefined();
    a!.clock.advance(100);
    a!.store.patch('lamp', { level: 4 });
    repairAll([a!, b!]);
    expect(b!.store.get('lamp')).toEqual({ level: 4 });
  });

  it('put replaces the whole object, patch keeps siblings, deleteField removes one', () => {
    const [a] = makeReplicas(1);
    a!.store.put('lamp', { on: true, level: 5, location: { x: 1, y: 2 } });
    a!.store.patch('lamp', { level: 6 });
    expect(a!.store.get('lamp')).toEqual({ on: true, level: 6, location: { x: 1, y: 2 } });
    a!.store.deleteField('lamp', 'on');
    expect(a!.store.get('lamp')).toEqual({ level: 6, location: { x: 1, y: 2 } });
    a!.store.put('lamp', { color: 'red' });
    expect(a!.store.get('lamp')).toEqual({ color: 'red' });
  });

  it('a concurrent patch newer than a put survives it on every replica', () => {
    const [a, b] = makeReplicas(2);
    a!.store.put('lamp', { on: true, level: 1 });
    repairAll([a!, b!]);
    a!.store.put('lamp', { on: false });
    b!.clock.advance(5);
    b!.store.patch('lamp', { level: 9 });
    repairAll([a!, b!]);
    expect(a!.store.get('lamp')).toEqual({ on: false, level: 9 });
    expect(b!.store.get('lamp')).toEqual({ on: false, level: 9 });
  });
});

describe('changes reported by merge', () => {
  it('lists exactly the visible effects', () => {
    const [a, b] = makeReplicas(2);
    a!.store.put('lamp', { on: true, level: 5 });
    let res = b!.store.merge(a!.store.deltasFor(b!.store.digest()).records);
    expect(res.changes).toEqual([expect.objectContaining({ objectId: 'lamp', set: { on: true, level: 5 }, removed: [], created: true, deleted: false, origin: NODE_IDS[0] })]);
    // A duplicate delivery changes nothing.
    res = b!.store.merge(a!.store.deltasFor({}).records);
    expect(res.changes).toEqual([]);
    expect(res.superseded).toBe(3);
    a!.store.patch('lamp', { level: 6 });
    a!.store.deleteField('lamp', 'on');
    res = b!.store.merge(a!.store.deltasFor(b!.store.digest()).records);
    expect(res.changes).toEqual([expect.objectContaining({ objectId: 'lamp', set: { level: 6 }, removed: ['on'], created: false, deleted: false })]);
    a!.store.deleteObject('lamp');
    res = b!.store.merge(a!.store.deltasFor(b!.store.digest()).records);
    expect(res.changes).toEqual([expect.objectContaining({ objectId: 'lamp', set: {}, removed: ['level'], created: false, deleted: true })]);
  });

  it('local writes report their changes too', () => {
    const [a] = makeReplicas(1);
    expect(a!.store.patch('lamp', { on: true }).changes).toEqual([expect.objectContaining({ objectId: 'lamp', set: { on: true }, created: true })]);
    expect(a!.store.deleteField('lamp', 'missing').changes).toEqual([]);
  });
});

describe('state stays O(live fields)', () => {
  it('1,000 overwrites of one field hold one record', () => {
    const [a, b] = makeReplicas(2);
    for (let i = 0; i < 1000; i++) a!.store.patch('lamp', { level: i });
    expect([...a!.store.records()]).toHaveLength(1);
    const batch = a!.store.deltasFor({});
    expect(batch.records).toHaveLength(1);
    expect(batch.covers).toEqual([{ origin: NODE_IDS[0], from: 0, to: 1000 }]);
    b!.store.merge(batch.records, batch.covers);
    expect(b!.store.digest()).toEqual({ [NODE_IDS[0]!]: 1000 });
  });
});

describe('digest and deltas', () => {
  it('digest reports gap-free watermarks per origin', () => {
    const [a, b] = makeReplicas(2);
    const r1 = a!.store.patch('x', { v: 1 }).records;
    const r2 = a!.store.patch('y', { v: 2 }).records;
    const r3 = a!.store.patch('z', { v: 3 }).records;
    b!.store.merge(r3);
    b!.store.merge(r1);
    expect(b!.store.digest()).toEqual({ [NODE_IDS[0]!]: 1 }); // seq 2 still missing
    b!.store.merge(r2);
    expect(b!.store.digest()).toEqual({ [NODE_IDS[0]!]: 3 });
  });

  it('cuts batches at the record count and byte budget, and continues', () => {
    const [a, b] = makeReplicas(2);
    for (let i = 0; i < 50; i++) a!.store.patch(`o${i}`, { v: 'x'.repeat(100) });
    let rounds = 0;
    for (;;) {
      const batch = a!.store.deltasFor(b!.store.digest(), { maxRecords: 7, maxBytes: 600 });
      rounds++;
      expect(batch.records.length).toBeLessThanOrEqual(7);
      expect(batch.records.length).toBeGreaterThan(0);
      b!.store.merge(batch.records, batch.covers);
      if (batch.complete) break;
    }
    expect(rounds).toBeGreaterThan(7);
    expect(canonicalHash(b!.store)).toBe(canonicalHash(a!.store));
  });

  it('a single record larger than the byte budget is still sent alone', () => {
    const [a] = makeReplicas(1);
    a!.store.patch('big', { v: 'x'.repeat(5000) });
    a!.store.patch('small', { v: 1 });
    const batch = a!.store.deltasFor({}, { maxRecords: 100, maxBytes: 100 });
    expect(batch.records).toHaveLength(1);
    expect(batch.complete).toBe(false);
  });
});

describe('tombstone expiry', () => {
  it('collects tombstones older than the TTL and nothing else', () => {
    const [a] = makeReplicas(1);
    a!.store.put('keep', { on: true });
    a!.store.put('gone', { on: true });
    a!.store.deleteObject('gone');
    a!.store.patch('keep', { level: 1 });
    a!.store.deleteField('keep', 'level');
    expect(a!.store.stats()).toMatchObject({ objects: 1, liveFields: 1, tombstones: 2 });
    const now = a!.clock.now();
    expect(a!.store.collectGarbage(now + 6 * DAY)).toHaveLength(0);
    expect(a!.store.collectGarbage(now + 7 * DAY + 1)).toHaveLength(2);
    expect(a!.store.stats()).toMatchObject({ objects: 1, liveFields: 1, tombstones: 0 });
    expect(a!.store.get('keep')).toEqual({ on: true });
    expect([...a!.store.records()].every((r) => r.objectId === 'keep')).toBe(true);
  });
});

describe('stats', () => {
  it('match a full scan, including encoded bytes within the estimate', () => {
    const [a] = makeReplicas(1);
    for (let i = 0; i < 200; i++) a!.store.patch(`o${i % 40}`, { [`f${i % 7}`]: { n: i, s: 'é'.repeat(i % 9) } });
    for (let i = 0; i < 10; i++) a!.store.deleteObject(`o${i}`);
    for (let i = 10; i < 15; i++) a!.store.deleteField(`o${i}`, 'f1');
    const records = [...a!.store.records()];
    const stats = a!.store.stats();
    expect(stats.objects).toBe(a!.store.list().length);
    expect(stats.liveFields).toBe(a!.store.list().reduce((n, o) => n + Object.keys(o.fields).length, 0));
    expect(stats.tombstones).toBe(records.filter((r) => typeof r.value === 'symbol').length);
    const encoded = encodeRecords(records).length;
    expect(stats.encodedBytes).toBeGreaterThanOrEqual(encoded * 0.9);
    expect(stats.encodedBytes).toBeLessThanOrEqual(encoded * 1.5);
  });
});

describe('snapshot', () => {
  it('streams whole objects in id order with a resumable cursor', () => {
    const [a, b] = makeReplicas(2);
    for (let i = 0; i < 300; i++) a!.store.put(`obj-${String(i).padStart(3, '0')}`, { a: i, b: 'x'.repeat(i % 50) });
    a!.store.deleteObject('obj-007');
    const digest = a!.store.digest();
    const chunks = [...a!.store.snapshot({ maxRecords: 50, maxBytes: 4000 })];
    expect(chunks.length).toBeGreaterThan(5);
    // Resume from the middle with only the cursor.
    const mid = chunks[2]!.cursor!;
    const resumed = [...a!.store.snapshot({ maxRecords: 50, maxBytes: 4000 }, mid)];
    expect(resumed.map((c) => c.records)).toEqual(chunks.slice(3).map((c) => c.records));
    for (const c of chunks) b!.store.merge(decodeRecords(encodeRecords(c.records)));
    b!.store.merge([], Object.entries(digest).map(([origin, to]) => ({ origin: origin as never, from: 0, to })));
    expect(canonicalHash(b!.store)).toBe(canonicalHash(a!.store));
    expect(b!.store.digest()).toEqual(digest);
  });

  it('lists by prefix and cursor', () => {
    const [a] = makeReplicas(1);
    for (const id of ['kitchen/lamp', 'kitchen/oven', 'hall/lamp', 'kitchen/fan']) a!.store.patch(id, { on: true });
    expect(a!.store.list({ prefix: 'kitchen/' }).map((o) => o.id)).toEqual(['kitchen/fan', 'kitchen/lamp', 'kitchen/oven']);
    expect(a!.store.list({ prefix: 'kitchen/', after: 'kitchen/fan', limit: 1 }).map((o) => o.id)).toEqual(['kitchen/lamp']);
  });
});

describe('journal sink', () => {
  it('sees every local write, merge and collection, in order, before the call returns', () => {
    const [a, b] = makeReplicas(2);
    const seen: string[] = [];
    b!.store.attachJournal((j) => seen.push(j.map((e) => (e.op === 'put' ? `put ${e.record.objectId}.${e.record.field || '*'}` : `drop ${e.objectId}.${e.field}`)).join(',')));
    b!.store.patch('lamp', { on: true });
    a!.clock.advance(5);
    a!.store.deleteObject('lamp');
    b!.store.merge(a!.store.deltasFor(b!.store.digest()).records);
    b!.store.collectGarbage(b!.clock.now() + 8 * DAY);
    expect(seen).toEqual(['put lamp.on', 'put lamp.*,drop lamp.on', 'drop lamp.']);
  });
});

describe('moved watermarks', () => {
  it('reports only the digest entries that moved since the last call', () => {
    const [a, b] = makeReplicas(2);
    a!.store.patch('x', { v: 1 });
    expect(a!.store.takeMovedWatermarks()).toEqual({ [NODE_IDS[0]!]: 1 });
    expect(a!.store.takeMovedWatermarks()).toEqual({});
    const late = a!.store.patch('y', { v: 2 }).records;
    a!.store.patch('z', { v: 3 });
    b!.store.merge(a!.store.deltasFor({}).records.filter((r) => r.objectId === 'x'));
    expect(b!.store.takeMovedWatermarks()).toEqual({ [NODE_IDS[0]!]: 1 });
    b!.store.merge(a!.store.deltasFor({}).records.filter((r) => r.objectId === 'z')); // a gap: seq 2 missing
    expect(b!.store.takeMovedWatermarks()).toEqual({});
    b!.store.merge(late);
    expect(b!.store.takeMovedWatermarks()).toEqual({ [NODE_IDS[0]!]: 3 });
    expect(b!.store.digest()).toEqual({ [NODE_IDS[0]!]: 3 });
  });
});

describe('a wall clock that jumps ahead for a few seconds', () => {
  it('with a monotonic clock, writes made meanwhile are accepted by peers and lose to later writes', () => {
    const [b] = makeReplicas(1);
    const T0 = b!.clock.now();
    const wall = new ManualClock(T0);
    const mono = new ManualClock(0);
    const a = new Store({ nodeId: NODE_IDS[4]!, clock: wall, monotonic: mono });
    const tick = (ms: number): void => {
      wall.advance(ms);
      mono.advance(ms);
      b!.clock.advance(ms);
    };
    a.patch('lamp', { level: 1 });
    tick(1_000);
    wall.advance(300_000); // the wall clock jumps 5 minutes ahead...
    const during = a.patch('lamp', { level: 2 }).records;
    tick(4_000);
    wall.advance(-300_000); // ...and is set right 4 s later
    expect(b!.store.merge(during).rejected).toEqual({});
    tick(1_000);
    const later = b!.store.patch('lamp', { level: 3 }).records;
    a.merge(later);
    expect(a.get('lamp')).toEqual({ level: 3 });
    expect(b!.store.get('lamp')).toEqual({ level: 3 });
    expect(a.hlc.stats()).toMatchObject({ stepsIgnored: 1, stepsAccepted: 0 });
  });
});
