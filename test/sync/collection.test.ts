import { describe, expect, it } from 'vitest';
import { MESSAGE_TYPE_NAMES, MessageType } from '../../src/sync/messages.ts';
import { Store } from '../../src/store/store.ts';
import { nodeIdOf, TestMesh, type TestNode } from './mesh.ts';

// Tombstone collection in the running engine, and what a replica that missed collected
// deletions does when it comes back (decision 0005). Virtual time, 'local' preset.

const TTL = 60_000;

function storeOf(mesh: TestMesh, i: number): Store {
  return new Store({ nodeId: nodeIdOf(i), clock: mesh.clock, options: { tombstoneTtlMs: TTL } });
}

/** A mesh of `n` nodes whose stores keep tombstones for TTL ms. */
function meshWithTtl(n: number): TestMesh {
  const mesh = new TestMesh();
  for (let i = 0; i < n; i++) mesh.start(mesh.add({ store: storeOf(mesh, i) }));
  mesh.run(3000);
  return mesh;
}

function write(mesh: TestMesh, node: TestNode, op: Parameters<TestNode['engine']['write']>[0]): void {
  node.engine.write(op, mesh.now);
  mesh.send(node, node.engine.flush(mesh.now));
}

const between = (mesh: TestMesh, a: TestNode, b: TestNode) => (f: { from: string; out: { to: string } }): boolean =>
  (f.from === mesh.nodes[a.i]!.address && f.out.to === mesh.nodes[b.i]!.address) || (f.from === mesh.nodes[b.i]!.address && f.out.to === mesh.nodes[a.i]!.address);

/** Every running replica holds the same digest and the same visible objects, and its invariants hold. */
function expectAgreement(mesh: TestMesh): void {
  const live = mesh.live();
  const first = live[0]!;
  for (const n of live) {
    expect(n.engine.store.checkInvariants()).toEqual([]);
    expect(n.engine.store.digest()).toEqual(first.engine.store.digest());
    expect(n.engine.store.list()).toEqual(first.engine.store.list());
  }
}

describe('tombstone collection in the running engine', () => {
  it('collects a tombstone past the TTL once every live member holds it', () => {
    const mesh = meshWithTtl(3);
    const [a] = mesh.nodes as [TestNode, TestNode, TestNode];
    write(mesh, a, { kind: 'patch', id: 'lamp', fields: { on: true } });
    write(mesh, a, { kind: 'deleteObject', id: 'lamp' });
    mesh.run(TTL / 2);
    for (const n of mesh.live()) expect(n.engine.store.stats().tombstones).toBe(1);
    mesh.run(TTL);
    for (const n of mesh.live()) {
      expect(n.engine.counters().tombstonesCollected).toBe(1);
      expect(n.engine.store.stats().tombstones).toBe(0);
      expect(n.engine.store.collectedState().floors).toEqual({ [a.engine.nodeId]: 2 });
    }
    expectAgreement(mesh);
  });

  it('keeps a tombstone that a live member has not confirmed holding', () => {
    const mesh = meshWithTtl(2);
    const [a, b] = mesh.nodes as [TestNode, TestNode];
    write(mesh, a, { kind: 'patch', id: 'lamp', fields: { on: true } });
    mesh.run(2000);
    // b stays alive (probes pass) but never receives store data from a.
    const data = new Set<number>([MessageType.PUSH, MessageType.ACK, MessageType.ACK2, MessageType.SNAPSHOT_CHUNK]);
    mesh.filter = (f) => !(f.out.to === b.address && data.has(f.out.message.t));
    write(mesh, a, { kind: 'deleteObject', id: 'lamp' });
    mesh.run(3 * TTL);
    expect(b.engine.membership.get(a.engine.nodeId)?.status).toBe('alive');
    expect(a.engine.store.stats().tombstones).toBe(1);
    expect(a.engine.counters().tombstonesCollected ?? 0).toBe(0);
    mesh.filter = () => true;
    mesh.run(10_000);
    expect(b.engine.store.get('lamp')).toBeUndefined();
    expect(a.engine.counters().tombstonesCollected).toBe(1);
    expectAgreement(mesh);
  });
});

describe('a replica away past the TTL', () => {
  it('away as a running process: verifies itself, keeps its own writes, never resurrects what was deleted', () => {
    const mesh = meshWithTtl(3);
    const [a, b] = mesh.nodes as [TestNode, TestNode, TestNode];
    write(mesh, a, { kind: 'patch', id: 'lamp.old', fields: { on: true } });
    write(mesh, a, { kind: 'patch', id: 'lamp.kept', fields: { on: true } });
    mesh.run(2000);
    expect(b.engine.store.get('lamp.old')).toEqual({ on: true });
    mesh.filter = (f) => f.from !== b.address && f.out.to !== b.address; // b is cut off, still running
    write(mesh, a, { kind: 'deleteObject', id: 'lamp.old' });
    mesh.run(TTL / 2);
    write(mesh, b, { kind: 'patch', id: 'b.own', fields: { v: 1 } }); // b writes while away
    mesh.run(TTL + 30_000);
    expect(a.engine.store.stats().tombstones).toBe(0); // collected by the running engine
    mesh.filter = () => true;
    mesh.run(30_000);
    for (const n of mesh.live()) {
      expect(n.engine.store.get('lamp.old')).toBeUndefined();
      expect(n.engine.store.get('lamp.kept')).toEqual({ on: true });
      expect(n.engine.store.get('b.own')).toEqual({ v: 1 });
    }
    expectAgreement(mesh);
    expect(b.engine.counters().staleDetected).toBeGreaterThanOrEqual(1);
  });

  it('restarted past the TTL: keeps its unsent writes and records only it relayed, with honest digests', () => {
    const mesh = meshWithTtl(5); // a, d and e stay together: the majority, which collects
    const [a, b, c] = mesh.nodes as [TestNode, TestNode, TestNode];
    write(mesh, a, { kind: 'patch', id: 'lamp.old', fields: { on: true } });
    mesh.run(2000);
    // a and b stop hearing each other, and so do b and c: b never learns of the deletion.
    const allowed = new Set<object>();
    mesh.filter = (f) => allowed.has(f) || (!between(mesh, a, b)(f) && !between(mesh, b, c)(f));
    write(mesh, a, { kind: 'deleteObject', id: 'lamp.old' });
    mesh.run(1000);
    // c's write reaches b only (its push to a is lost), then c is gone for good.
    c.engine.write({ kind: 'patch', id: 'c.relayed', fields: { v: 2 } }, mesh.now);
    for (const out of c.engine.flush(mesh.now)) {
      if (out.message.t !== MessageType.PUSH) continue;
      const flight = { from: c.address, out: { ...out, to: b.address } };
      allowed.add(flight);
      mesh.queue.push(flight);
      break;
    }
    mesh.deliverAll();
    mesh.crash(c); // its only other copy is gone
    write(mesh, b, { kind: 'patch', id: 'b.unsent', fields: { v: 3 } }); // never leaves b
    mesh.run(100);
    expect(b.engine.store.get('c.relayed')).toEqual({ v: 2 });
    mesh.crash(b);
    mesh.filter = () => true;
    mesh.run(TTL + 30_000);
    expect(a.engine.store.stats().tombstones).toBe(0); // collected by the running engine
    mesh.restart(b, { store: b.engine.store, lastActiveMs: mesh.clock.now() - TTL - 30_000 });
    mesh.run(30_000);
    for (const n of mesh.live()) {
      expect(n.engine.store.get('lamp.old')).toBeUndefined();
      expect(n.engine.store.get('c.relayed')).toEqual({ v: 2 });
      expect(n.engine.store.get('b.unsent')).toEqual({ v: 3 });
    }
    expectAgreement(mesh);
  });

  it('drops, visibly, a record older than a collected deletion that no live replica saw', () => {
    const mesh = meshWithTtl(3); // a and c stay together: the majority, which collects
    const [a, b] = mesh.nodes as [TestNode, TestNode];
    mesh.filter = (f) => f.from !== b.address && f.out.to !== b.address;
    write(mesh, b, { kind: 'patch', id: 'lamp', fields: { on: true } }); // b's write, before a's deletion
    write(mesh, a, { kind: 'patch', id: 'lamp', fields: { on: false } });
    write(mesh, a, { kind: 'deleteObject', id: 'lamp' });
    mesh.run(TTL + 30_000);
    expect(a.engine.counters().tombstonesCollected).toBe(1);
    mesh.filter = () => true;
    mesh.run(30_000);
    expect(b.engine.counters().staleRecordsDropped).toBe(1);
    const dropped = b.events.filter((e) => e.type === 'records-dropped');
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatchObject({ reason: 'stale', records: [{ objectId: 'lamp', field: 'on' }] });
    expect(mesh.live().every((n) => n.engine.store.get('lamp') === undefined)).toBe(true);
    expectAgreement(mesh);
  });
});

describe('only a majority collects', () => {
  it('a node cut off from most of the mesh keeps its tombstones; the majority collects', () => {
    const mesh = meshWithTtl(3);
    const [a, b] = mesh.nodes as [TestNode, TestNode, TestNode];
    write(mesh, b, { kind: 'patch', id: 'lamp', fields: { on: true } });
    mesh.run(1000);
    mesh.filter = (f) => f.from !== b.address && f.out.to !== b.address;
    write(mesh, b, { kind: 'deleteObject', id: 'lamp' }); // b alone sees its own deletion
    write(mesh, a, { kind: 'deleteObject', id: 'lamp.a' });
    mesh.run(3 * TTL);
    expect(b.engine.store.stats().tombstones).toBe(1);
    expect(b.engine.counters().collectionsDeferred).toBeGreaterThan(0);
    expect(b.engine.store.collectedState().floors).toEqual({});
    mesh.filter = () => true;
    mesh.run(30_000);
    expect(mesh.live().every((n) => n.engine.store.get('lamp') === undefined)).toBe(true);
    expectAgreement(mesh);
  });
});

describe('records already accounted for', () => {
  it('a replica never reinstalls a record its watermark covers and it no longer holds (its deletion was collected)', () => {
    const mesh = new TestMesh();
    const a = storeOf(mesh, 0);
    const old = a.put('lamp', { on: true }).records;
    mesh.clock.advance(5);
    a.deleteObject('lamp');
    mesh.clock.advance(2 * TTL);
    expect(a.collectGarbage(mesh.clock.now(), a.digest())).toHaveLength(1);
    const result = a.merge(old); // a stale peer sends the deleted object's first records back
    expect(result.records).toEqual([]);
    expect(a.get('lamp')).toBeUndefined();
    expect(a.checkInvariants()).toEqual([]);
  });
});

describe('reused sequence numbers', () => {
  it('a merge never lets a record take the (origin, seq) another holds: refused, counted, reported', () => {
    const mesh = new TestMesh();
    const s = storeOf(mesh, 1);
    const a = storeOf(mesh, 0);
    const first = a.patch('lamp', { on: true }).records[0]!;
    s.merge([first]);
    const reused = { ...first, objectId: 'door' as typeof first.objectId, ts: { ms: first.ts.ms + 5, lc: 0 } };
    const result = s.merge([reused]);
    expect(result.conflicts).toEqual([reused]);
    expect(s.seqConflictCount()).toBe(1);
    expect(s.get('door')).toBeUndefined();
    expect(s.get('lamp')).toEqual({ on: true });
    expect(s.checkInvariants()).toEqual([]);
  });

  it('a node restored from an older copy takes its lost writes back and numbers new ones after them', () => {
    const mesh = new TestMesh();
    for (let i = 0; i < 2; i++) mesh.start(mesh.add());
    mesh.run(3000);
    const [a, b] = mesh.nodes as [TestNode, TestNode];
    write(mesh, a, { kind: 'patch', id: 'w1', fields: { v: 1 } });
    mesh.run(500);
    const backup = new Store({ nodeId: a.engine.nodeId, clock: mesh.clock });
    backup.load([...a.engine.store.records()], a.engine.store.digest());
    write(mesh, a, { kind: 'patch', id: 'w2', fields: { v: 2 } });
    write(mesh, a, { kind: 'patch', id: 'w3', fields: { v: 3 } });
    mesh.run(500);
    expect(b.engine.store.get('w3')).toEqual({ v: 3 });
    mesh.crash(a);
    mesh.run(100);
    const restored = mesh.restart(a, { store: backup });
    write(mesh, restored, { kind: 'patch', id: 'w4', fields: { v: 4 } }); // before it hears any peer
    mesh.run(5000);
    for (const n of [restored, b]) for (const [id, v] of [['w1', 1], ['w2', 2], ['w3', 3], ['w4', 4]] as const) expect(n.engine.store.get(id)).toEqual({ v });
    expectAgreement(mesh);
    expect(restored.engine.counters().ownWritesRenumbered).toBe(1);
    expect(b.engine.counters().seqConflicts ?? 0).toBe(0);
    const pushes = mesh.delivered.get(MESSAGE_TYPE_NAMES[MessageType.PUSH]) ?? 0;
    expect(pushes).toBeGreaterThan(0);
  });
});
