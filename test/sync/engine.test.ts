import { describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.ts';
import { MessageType } from '../../src/sync/messages.ts';
import { nodeIdOf, TestMesh, type TestNode } from './mesh.ts';

// Engines wired by the in-memory router of mesh.ts, in virtual time ('local' preset).

const at = (mesh: TestMesh, i: number): TestNode => {
  const n = mesh.nodes[i];
  if (n === undefined) throw new Error(`no node ${i}`);
  return n;
};

function write(mesh: TestMesh, node: TestNode, id: string, fields: Record<string, unknown>): void {
  node.engine.write({ kind: 'patch', id, fields }, mesh.now);
  node.events.push(...node.engine.takeEvents());
}

describe('Engine: handshake and membership', () => {
  it('five nodes handshake from one seed and all learn each other', () => {
    const mesh = TestMesh.started(5);
    expect(mesh.allAlive()).toBe(true);
    for (const n of mesh.nodes) {
      expect(n.engine.membership.members()).toHaveLength(5);
      expect(n.engine.counters()['dropped:handler-error']).toBeUndefined();
      expect(n.engine.isBootstrapping()).toBe(false);
    }
    // Each joiner said HELLO to the seed only; the others it learned by gossip and digests.
    expect(mesh.delivered.get('HELLO')).toBe(4);
  });

  it('a node without seeds joins a peer found by discovery', () => {
    const mesh = TestMesh.started(3);
    const loner = mesh.add({ seeds: [] });
    mesh.start(loner);
    mesh.run(2000);
    expect(loner.engine.membership.aliveNodeIds()).toEqual([]);
    expect(loner.engine.discovered(loner.address, mesh.now)).toEqual([]);
    const outs = loner.engine.discovered(at(mesh, 1).address, mesh.now);
    expect(outs.map((o) => o.message.t)).toEqual([MessageType.HELLO]);
    expect(loner.engine.discovered(at(mesh, 1).address, mesh.now)).toEqual([]);
    mesh.send(loner, outs);
    mesh.run(5000, () => mesh.allAlive());
    expect(mesh.allAlive()).toBe(true);
  });

  it('a peer speaking no common protocol version is refused and never learned', () => {
    const mesh = TestMesh.started(2);
    const old = mesh.add({ protocolVersions: [2, 3] });
    mesh.start(old);
    mesh.run(3000);
    const seed = at(mesh, 0);
    expect(seed.engine.counters()['refused:version-mismatch']).toBeGreaterThanOrEqual(1);
    expect(old.engine.counters()['refusedBy:version-mismatch']).toBeGreaterThanOrEqual(1);
    expect(seed.engine.membership.get(old.engine.nodeId)).toBeUndefined();
    expect(at(mesh, 1).engine.membership.get(old.engine.nodeId)).toBeUndefined();
    expect(seed.events).toContainEqual({ type: 'dropped', reason: 'version-mismatch', from: old.address });
    expect(old.engine.membership.aliveNodeIds()).toEqual([]);
  });

  it('a HELLO with our node id and another boot nonce is reported as a duplicate identity and refused', () => {
    const mesh = TestMesh.started(2);
    const seed = at(mesh, 0);
    const copy = mesh.add({ bootNonce: 'copied' });
    // Same identity as the seed, another address and nonce.
    const clone = new TestMesh().add({ bootNonce: 'copied' });
    const hello = { t: MessageType.HELLO, from: seed.engine.nodeId, mesh: 'test', versions: [1, 1], bootNonce: 'copied', record: { ...clone.engine.membership.self(), nodeId: seed.engine.nodeId } };
    const out = seed.engine.receive(copy.address, hello, mesh.now);
    expect(out).toHaveLength(1);
    expect(out[0]?.message).toMatchObject({ t: MessageType.WELCOME, refused: 'duplicate-identity' });
    expect(seed.engine.takeEvents()).toContainEqual({ type: 'duplicate-identity', nodeId: seed.engine.nodeId, bootNonce: 'copied' });
  });

  it('a graceful leave shows as left on every other node', () => {
    const mesh = TestMesh.started(4);
    const leaver = at(mesh, 3);
    mesh.send(leaver, leaver.engine.leave(mesh.now));
    mesh.deliverAll();
    leaver.up = false;
    for (const n of mesh.live()) {
      expect(n.engine.membership.get(leaver.engine.nodeId)?.status).toBe('left');
      expect(n.events).toContainEqual(expect.objectContaining({ type: 'member', nodeId: leaver.engine.nodeId, status: 'left' }));
    }
    expect(leaver.engine.nextWakeAt()).toBe(Number.POSITIVE_INFINITY);
  });

  it('after leave the engine sends nothing: not writes queued before it, nor after, nor an address change', () => {
    const mesh = TestMesh.started(3);
    const leaver = at(mesh, 2);
    write(mesh, leaver, 'lamp', { on: true }); // queued, not yet flushed
    mesh.send(leaver, leaver.engine.leave(mesh.now));
    expect(leaver.engine.flush(mesh.now)).toEqual([]);
    write(mesh, leaver, 'lamp', { on: false });
    expect(leaver.engine.store.get('lamp')).toEqual({ on: false }); // the local copy still takes it
    expect(leaver.engine.flush(mesh.now)).toEqual([]);
    expect(leaver.engine.confirmStored(mesh.now)).toEqual([]);
    expect(leaver.engine.setAddress('10.0.0.99', 7000, mesh.now)).toEqual([]);
    expect(leaver.engine.start(mesh.now)).toEqual([]);
    expect(leaver.engine.nextWakeAt()).toBe(Number.POSITIVE_INFINITY);
  });

  it('a crashed (silent) node becomes dead on the others', () => {
    const mesh = TestMesh.started(5);
    const victim = at(mesh, 2);
    mesh.crash(victim);
    mesh.run(10_000, () => mesh.live().every((n) => n.engine.membership.get(victim.engine.nodeId)?.status === 'dead'));
    for (const n of mesh.live()) {
      expect(n.engine.membership.get(victim.engine.nodeId)?.status).toBe('dead');
      expect(n.events).toContainEqual(expect.objectContaining({ type: 'member', nodeId: victim.engine.nodeId, status: 'dead' }));
    }
  });
});

describe('Engine: a generation that went backwards', () => {
  it("a node restarted at a lower generation after it was reaped is readmitted above the mesh's memory", () => {
    const mesh = new TestMesh();
    for (let i = 0; i < 3; i++) mesh.start(mesh.add());
    const before = mesh.add({ generation: 5 });
    mesh.start(before);
    mesh.run(5000, () => mesh.allAlive());
    expect(mesh.allAlive()).toBe(true);
    const id = before.engine.nodeId;
    mesh.crash(before);
    mesh.run(60_000, () => mesh.live().every((n) => n.engine.membership.get(id) === undefined));
    for (const n of mesh.live()) expect(n.engine.membership.get(id), `node ${n.i} still holds it`).toBeUndefined();
    // Restarted from a restored data directory (or without its generation file): generation 1.
    const after = mesh.restart(before, { generation: 1 });
    mesh.run(20_000, () => mesh.allAlive());
    expect(mesh.allAlive()).toBe(true);
    expect(after.engine.membership.self()).toMatchObject({ generation: 6, incarnation: 0, status: 'alive' });
    expect(after.events.filter((e) => e.type === 'generation')).toEqual([{ type: 'generation', previous: 1, generation: 6 }]);
    for (const n of mesh.live()) if (n !== after) expect(n.engine.membership.get(id)).toMatchObject({ generation: 6, status: 'alive' });
    expect(after.engine.counters()['membership:generationRaises']).toBe(1);
  });

  it('a node restarted at a lower generation before the mesh noticed it was gone continues above the record the mesh holds', () => {
    const mesh = new TestMesh();
    for (let i = 0; i < 3; i++) mesh.start(mesh.add());
    const before = mesh.add({ generation: 5 });
    mesh.start(before);
    mesh.run(5000, () => mesh.allAlive());
    const id = before.engine.nodeId;
    mesh.crash(before);
    const after = mesh.restart(before, { generation: 1 });
    mesh.run(20_000, () => mesh.allAlive() && mesh.live().every((n) => n === after || n.engine.membership.get(id)?.generation === 6));
    expect(after.engine.membership.self()).toMatchObject({ generation: 6, status: 'alive' });
    expect(after.events.filter((e) => e.type === 'generation')).toEqual([{ type: 'generation', previous: 1, generation: 6 }]);
    for (const n of mesh.live()) if (n !== after) expect(n.engine.membership.get(id)).toMatchObject({ generation: 6, status: 'alive' });
  });
});

describe('Engine: addresses and partitions', () => {
  it('an address change is announced at once and peers reach the node at its new address', () => {
    const mesh = TestMesh.started(4);
    const mover = at(mesh, 2);
    const before = mover.engine.membership.self().incarnation;
    mesh.move(mover, '10.0.1.3', 7001);
    mesh.send(mover, mover.engine.setAddress('10.0.1.3', 7001, mesh.now));
    mesh.deliverAll();
    expect(mover.engine.membership.self().incarnation).toBe(before + 1);
    for (const n of mesh.nodes) {
      if (n === mover) continue;
      expect(n.engine.membership.get(mover.engine.nodeId)).toMatchObject({ addresses: ['10.0.1.3'], port: 7001, status: 'alive' });
    }
    const writer = at(mesh, 0);
    write(mesh, writer, 'lamp', { on: false });
    const outs = writer.engine.flush(mesh.now);
    expect(outs.map((o) => o.to)).toContain('10.0.1.3:7001');
    mesh.send(writer, outs);
    mesh.deliverAll();
    expect(mover.engine.store.get('lamp')).toEqual({ on: false });
  });

  it('two halves of a long partition (members reaped on both sides) rejoin and converge after it heals', () => {
    const mesh = TestMesh.started(5);
    const left = new Set([mesh.nodes[0]?.address, mesh.nodes[1]?.address]);
    const cut = (f: { from: string; out: { to: string } }): boolean => left.has(f.from) === left.has(f.out.to);
    mesh.filter = cut;
    // Writes on both sides while cut off; long enough for deaths and reaping (local: 15 s).
    mesh.run(2000);
    write(mesh, at(mesh, 0), 'left-side', { v: 1 });
    write(mesh, at(mesh, 4), 'right-side', { v: 2 });
    mesh.run(30_000);
    expect(at(mesh, 0).engine.membership.get(at(mesh, 4).engine.nodeId)).toBeUndefined();
    expect(at(mesh, 4).engine.membership.get(at(mesh, 0).engine.nodeId)).toBeUndefined();
    mesh.filter = () => true;
    mesh.run(60_000, () => mesh.allAlive() && mesh.converged());
    expect(mesh.allAlive()).toBe(true);
    expect(mesh.converged()).toBe(true);
    for (const n of mesh.nodes) {
      expect(n.engine.store.get('left-side')).toEqual({ v: 1 });
      expect(n.engine.store.get('right-side')).toEqual({ v: 2 });
    }
    expect(mesh.nodes.reduce((s, n) => s + (n.engine.counters().reconnects ?? 0), 0)).toBeGreaterThan(0);
  });
});

describe('Engine: replication', () => {
  it('a write on one node reaches all others by eager push in one delivery', () => {
    const mesh = TestMesh.started(5);
    const writer = at(mesh, 2);
    write(mesh, writer, 'light.kitchen', { on: true });
    expect(writer.events).toContainEqual(expect.objectContaining({ type: 'change', origin: 'local' }));
    const outs = writer.engine.flush(mesh.now);
    expect(outs).toHaveLength(4);
    expect(new Set(outs.map((o) => o.to)).size).toBe(4);
    expect(outs.every((o) => o.message.t === MessageType.PUSH && o.channel === 'packet')).toBe(true);
    mesh.send(writer, outs);
    // One delivery each, no ticks, no anti-entropy.
    for (let k = 0; k < 4; k++) mesh.step();
    for (const n of mesh.nodes) {
      expect(n.engine.store.get('light.kitchen')).toEqual({ on: true });
      if (n !== writer) expect(n.events).toContainEqual(expect.objectContaining({ type: 'change', origin: 'remote' }));
    }
    expect(writer.engine.counters().pushes).toBe(4);
  });

  it('several writes before a flush leave in one coalesced PUSH per peer', () => {
    const mesh = TestMesh.started(3);
    const writer = at(mesh, 1);
    for (let k = 0; k < 10; k++) write(mesh, writer, `sensor.${k}`, { value: k });
    const outs = writer.engine.flush(mesh.now);
    expect(outs).toHaveLength(2);
    mesh.send(writer, outs);
    mesh.deliverAll();
    expect(mesh.converged()).toBe(true);
    expect(writer.engine.flush(mesh.now)).toEqual([]);
  });

  it('in a large mesh a write goes to pushFanout peers, each forwarding what was new to it once', () => {
    const mesh = new TestMesh({ fullFanoutMaxMembers: 4, pushFanout: 2 });
    for (let i = 0; i < 12; i++) mesh.start(mesh.add());
    mesh.run(20_000, () => mesh.allAlive());
    expect(mesh.allAlive()).toBe(true);
    const writer = at(mesh, 5);
    write(mesh, writer, 'fan', { out: true });
    const outs = writer.engine.flush(mesh.now);
    expect(outs).toHaveLength(2);
    mesh.send(writer, outs);
    const delivered = mesh.deliverAll();
    const reached = mesh.nodes.filter((n) => n.engine.store.get('fan') !== undefined).length;
    const forwards = mesh.nodes.reduce((s, n) => s + (n.engine.counters().forwards ?? 0), 0);
    expect(forwards).toBeLessThanOrEqual(4);
    expect(forwards).toBeGreaterThan(0);
    expect(delivered).toBe(2 + forwards);
    expect(reached).toBeGreaterThanOrEqual(3);
    expect(reached).toBeLessThanOrEqual(7);
    mesh.run(30_000, () => mesh.converged());
    expect(mesh.converged()).toBe(true);
  });

  it('with eagerPush off a write converges through anti-entropy', () => {
    const mesh = TestMesh.started(4, { eagerPush: false });
    const writer = at(mesh, 3);
    write(mesh, writer, 'thermostat', { target: 21.5 });
    expect(writer.engine.flush(mesh.now)).toEqual([]);
    const rounds = mesh.nodes.reduce((s, n) => s + (n.engine.counters().syncRounds ?? 0), 0);
    mesh.run(10_000, () => mesh.converged());
    expect(mesh.converged()).toBe(true);
    for (const n of mesh.nodes) expect(n.engine.store.get('thermostat')).toEqual({ target: 21.5 });
    expect(mesh.nodes.reduce((s, n) => s + (n.engine.counters().syncRounds ?? 0), 0)).toBeGreaterThan(rounds);
    expect(mesh.delivered.get('PUSH') ?? 0).toBe(0);
  });

  it('a lost PUSH is repaired by anti-entropy', () => {
    const mesh = TestMesh.started(4);
    const writer = at(mesh, 1);
    const victim = at(mesh, 2);
    mesh.filter = (f) => !(f.out.message.t === MessageType.PUSH && f.out.to === victim.address);
    write(mesh, writer, 'door', { locked: true });
    mesh.send(writer, writer.engine.flush(mesh.now));
    mesh.deliverAll();
    expect(victim.engine.store.get('door')).toBeUndefined();
    expect(at(mesh, 3).engine.store.get('door')).toEqual({ locked: true });
    mesh.run(10_000, () => mesh.converged());
    expect(victim.engine.store.get('door')).toEqual({ locked: true });
  });

  it('a catch-up larger than maxBatchBytes completes over several rounds', () => {
    const config = { maxBatchBytes: 4096, maxBatchRecords: 40 };
    const mesh = new TestMesh(config);
    const a = mesh.add();
    mesh.start(a);
    const blob = 'x'.repeat(100);
    for (let k = 0; k < 400; k++) a.engine.write({ kind: 'put', id: `obj-${String(k).padStart(4, '0')}`, fields: { k, blob } }, mesh.now);
    a.engine.takeEvents();
    // A non-empty store does not bootstrap by snapshot: it catches up by deltas.
    const bStore = new Store({ nodeId: nodeIdOf(1), clock: mesh.clock });
    bStore.put('own', { mine: true });
    const b = mesh.add({ store: bStore });
    mesh.start(b);
    mesh.run(5000, () => mesh.converged());
    expect(mesh.converged()).toBe(true);
    expect(b.engine.store.stats().objects).toBe(401);
    expect(a.engine.store.get('own')).toEqual({ mine: true });
    const continuations = (b.engine.counters().syncContinuations ?? 0) + (a.engine.counters().syncContinuations ?? 0);
    expect(continuations).toBeGreaterThan(1);
    expect(b.engine.counters().snapshotChunksReceived).toBeUndefined();
    expect(b.engine.counters().syncStalled).toBeUndefined();
  });
});

describe('Engine: snapshot bootstrap', () => {
  function seeded(objects: number, config = {}): { mesh: TestMesh; server: TestNode } {
    const mesh = new TestMesh({ maxBatchBytes: 16 * 1024, ...config });
    const server = mesh.add();
    for (let k = 0; k < objects; k++) server.engine.store.put(`dev-${String(k).padStart(5, '0')}`, { k, name: `device ${k}` });
    mesh.start(server);
    mesh.run(500);
    return { mesh, server };
  }

  it('an empty node bootstraps 5,000 objects by snapshot in several chunks and serves reads mid-way', () => {
    const { mesh, server } = seeded(5000);
    const fresh = mesh.add();
    expect(fresh.engine.isBootstrapping()).toBe(true);
    mesh.start(fresh);
    let sawPartial = false;
    while (mesh.queue.length > 0) {
      const f = mesh.step();
      if (f?.out.message.t !== MessageType.SNAPSHOT_CHUNK) continue;
      const objects = fresh.engine.store.stats().objects;
      if (objects > 0 && objects < 5000) {
        sawPartial = true;
        expect(fresh.engine.isBootstrapping()).toBe(true);
        expect(fresh.engine.store.get('dev-00000')).toEqual({ k: 0, name: 'device 0' });
      }
    }
    expect(sawPartial).toBe(true);
    expect(fresh.engine.isBootstrapping()).toBe(false);
    expect(fresh.engine.counters().snapshotChunksReceived).toBeGreaterThan(2);
    expect(fresh.engine.store.stats()).toEqual(server.engine.store.stats());
    // SNAPSHOT_END's covers make the digest whole: anti-entropy has nothing left to send.
    expect(fresh.engine.store.digest()).toEqual(server.engine.store.digest());
    expect(fresh.events.filter((e) => e.type === 'bootstrap').map((e) => (e.type === 'bootstrap' ? e.phase : ''))).toEqual(['started', 'done']);
  });

  it('a snapshot whose server goes away mid-stream resumes from the cursor with another peer', () => {
    const { mesh, server } = seeded(3000);
    const helper = mesh.add();
    mesh.start(helper);
    mesh.run(3000, () => mesh.converged() && helper.engine.isBootstrapping() === false);
    expect(mesh.converged()).toBe(true);
    const fresh = mesh.add();
    mesh.start(fresh);
    let chunks = 0;
    while (mesh.queue.length > 0 && chunks < 3) if (mesh.step()?.out.message.t === MessageType.SNAPSHOT_CHUNK) chunks += 1;
    expect(fresh.engine.isBootstrapping()).toBe(true);
    const partial = fresh.engine.store.stats().objects;
    expect(partial).toBeGreaterThan(0);
    mesh.crash(server);
    mesh.run(10_000, () => !fresh.engine.isBootstrapping());
    expect(fresh.engine.isBootstrapping()).toBe(false);
    expect(fresh.engine.counters().snapshotResumes).toBeGreaterThanOrEqual(1);
    expect(fresh.engine.store.stats()).toEqual(helper.engine.store.stats());
    expect(fresh.engine.store.digest()).toEqual(helper.engine.store.digest());
  });
});

describe('Engine: write concern bookkeeping', () => {
  it('receivers confirm committed writes with STORED; the writer counts confirmations per seq', () => {
    const mesh = TestMesh.started(4);
    const writer = at(mesh, 0);
    const res = writer.engine.write({ kind: 'patch', id: 'lock.front', fields: { locked: true } }, mesh.now);
    const seq = Math.max(...res.records.map((r) => r.seq));
    mesh.send(writer, writer.engine.flush(mesh.now));
    mesh.deliverAll();
    expect(writer.engine.confirmedBy(seq)).toEqual([]); // merged, but nobody said it is committed
    // Two receivers commit and confirm; the third has not yet.
    for (const i of [1, 2]) mesh.send(at(mesh, i), at(mesh, i).engine.confirmStored(mesh.now));
    mesh.deliverAll();
    expect(writer.engine.confirmedBy(seq).sort()).toEqual([at(mesh, 1).engine.nodeId, at(mesh, 2).engine.nodeId].sort());
    // Confirming again sends nothing new: no records arrived since.
    expect(at(mesh, 1).engine.confirmStored(mesh.now)).toEqual([]);
    const rep = writer.engine.replication().find((p) => p.nodeId === at(mesh, 1).engine.nodeId);
    expect(rep?.storedSeq).toBeGreaterThanOrEqual(seq);
    expect(rep?.lastContactMs).toBeDefined();
    // A later write is not covered by the earlier confirmations.
    const later = writer.engine.write({ kind: 'patch', id: 'lock.front', fields: { locked: false } }, mesh.now);
    expect(writer.engine.confirmedBy(Math.max(...later.records.map((r) => r.seq)))).toEqual([]);
  });
});

describe('Engine: a node away longer than the tombstone TTL', () => {
  it('rejoins by snapshot and drops what the mesh deleted meanwhile, instead of resurrecting it', () => {
    const DAY = 24 * 3600 * 1000;
    const mesh = TestMesh.started(2);
    const [a, b] = [at(mesh, 0), at(mesh, 1)];
    write(mesh, a, 'lamp.old', { on: true });
    write(mesh, a, 'lamp.kept', { on: true });
    mesh.send(a, a.engine.flush(mesh.now));
    mesh.deliverAll();
    expect(b.engine.store.get('lamp.old')).toEqual({ on: true });
    const awaySince = mesh.clock.now();
    mesh.crash(b);
    a.engine.write({ kind: 'deleteObject', id: 'lamp.old' }, mesh.now);
    mesh.clock.advance(8 * DAY);
    expect(a.engine.store.collectGarbage(mesh.clock.now()).length).toBe(1); // the tombstone is gone
    mesh.run(2000);
    const back = mesh.restart(b, { lastActiveMs: awaySince });
    expect(back.engine.isBootstrapping()).toBe(true);
    mesh.run(5000, () => !back.engine.isBootstrapping() && mesh.converged());
    expect(back.engine.isBootstrapping()).toBe(false);
    expect(back.engine.store.get('lamp.old')).toBeUndefined();
    expect(back.engine.store.get('lamp.kept')).toEqual({ on: true });
    // a saw that record and deleted it: an ordinary loss, not a conflict with a forgotten deletion.
    expect(back.engine.counters().supersededRecordsDropped).toBe(1);
    expect(back.engine.counters().staleRecordsDropped).toBeUndefined();
    mesh.run(3000);
    // And it never comes back to the node that deleted it.
    expect(a.engine.store.get('lamp.old')).toBeUndefined();
  });
});
