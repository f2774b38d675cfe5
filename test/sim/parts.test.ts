import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/core/random.ts';
import { SimClock, WALL_EPOCH_MS } from '../../src/sim/sim-clock.ts';
import { SimDisk } from '../../src/sim/sim-disk.ts';
import { SimNetwork } from '../../src/sim/network.ts';
import { visibleState } from '../../src/sim/truth.ts';
import { TOMBSTONE, type StoreRecord } from '../../src/store/index.ts';
import type { NodeId, ObjectId } from '../../src/core/ids.ts';

const A = 'a'.repeat(32) as NodeId;
const rec = (objectId: string, field: string, value: StoreRecord['value'], ms: number, seq: number): StoreRecord => ({ objectId: objectId as ObjectId, field, value, ts: { ms, lc: 0 }, origin: A, seq });

describe('SimNetwork streams', () => {
  it('a reset loses what is in flight on the pair, both ways; later messages flow again', () => {
    const net = new SimNetwork(3, new SeededRandom(1));
    const [ab] = net.route(0, 1, 'stream', 0);
    const [ba] = net.route(1, 0, 'stream', 0);
    const [ac] = net.route(0, 2, 'stream', 0);
    net.resetStream(1, 0);
    expect(net.streamCurrent(0, 1, ab?.stream as number)).toBe(false);
    expect(net.streamCurrent(1, 0, ba?.stream as number)).toBe(false);
    expect(net.streamCurrent(0, 2, ac?.stream as number)).toBe(true);
    const [later] = net.route(0, 1, 'stream', 1);
    expect(net.streamCurrent(0, 1, later?.stream as number)).toBe(true);
    expect(net.resets).toBe(1);
  });

  it('the streamReset condition resets the pair as a message leaves', () => {
    const net = new SimNetwork(2, new SeededRandom(1));
    net.conditions = { ...net.conditions, streamReset: 1 };
    expect(net.route(0, 1, 'stream', 0)).toEqual([]);
    expect(net.resets).toBe(1);
  });

  it('stream messages stay in order per direction', () => {
    const net = new SimNetwork(2, new SeededRandom(9));
    net.conditions = { ...net.conditions, latency: { baseMs: 1, jitterMs: 100, distribution: 'exponential' } };
    const times = Array.from({ length: 50 }, (_, i) => net.route(0, 1, 'stream', i)[0]?.atMs as number);
    expect(times).toEqual([...times].sort((x, y) => x - y));
  });
});

describe('SimDisk', () => {
  it('commits groups in order, loses the uncommitted tail on a crash, rejects whole groups while failing', () => {
    const disk = new SimDisk();
    expect(disk.submit({ journal: [{ op: 'put', record: rec('o', 'f', 1, 1, 1) }], watermarks: { [A]: 1 } }, 1).start).toBe(true);
    expect(disk.beginCommit()).toBe(true);
    disk.submit({ journal: [{ op: 'put', record: rec('o', 'g', 2, 2, 2) }], watermarks: { [A]: 2 } }, 2);
    expect(disk.beginCommit()).toBe(false);
    const first = disk.finishCommit();
    expect(first).toMatchObject({ ok: true, more: true });
    expect(disk.watermark(A)).toBe(1);
    expect(disk.crash().length).toBe(1);
    expect(disk.load().records.map((r) => r.field)).toEqual(['f']);
    disk.failing = true;
    disk.submit({ journal: [{ op: 'drop', objectId: 'o' as ObjectId, field: 'f' }], meta: { k: 1 } }, undefined);
    disk.beginCommit();
    expect(disk.finishCommit().ok).toBe(false);
    expect(disk.load().records.length).toBe(1);
    expect(disk.getMeta('k')).toBeUndefined();
  });

  it('restores an older image whole', () => {
    const disk = new SimDisk();
    disk.setMeta('generation', 1);
    const image = disk.image();
    disk.setMeta('generation', 5);
    disk.restore(image);
    expect(disk.getMeta('generation')).toBe(1);
  });
});

describe('SimClock', () => {
  it('steps and drifts the wall clock, never the monotonic one', () => {
    let now = 0;
    const c = new SimClock(() => now);
    now = 1000;
    c.setRate(1.01);
    expect(c.wall.now()).toBe(WALL_EPOCH_MS + 1000);
    now = 101_000;
    expect(c.wall.now()).toBeCloseTo(WALL_EPOCH_MS + 102_000, 6);
    c.step(-90_000);
    expect(c.errorMs()).toBeCloseTo(-89_000, 6);
    expect(c.monotonic.now()).toBe(101_000);
  });
});

describe('visibleState', () => {
  it('folds registers as the store does: last writer per register, object records clear older fields', () => {
    const state = visibleState([
      rec('a', 'x', 1, 10, 1),
      rec('a', '', TOMBSTONE, 20, 2),
      rec('a', 'y', 2, 30, 3),
      rec('b', 'x', 1, 10, 4),
      rec('b', '', TOMBSTONE, 20, 5),
      rec('c', '', null, 5, 6),
      rec('d', 'x', TOMBSTONE, 5, 7),
    ]);
    expect(state).toEqual([
      { id: 'a', fields: { y: 2 } },
      { id: 'c', fields: {} },
    ]);
  });
});
