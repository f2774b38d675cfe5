import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Store, type JournalEntry, type StoreRecord, type WriteResult } from '../../src/store/index.ts';
import { canonicalHash, dominates, makeReplicas, PROP_PARAMS, repairAll, type Replica } from './helpers.ts';

const OBJS = ['lamp', 'door', 'boiler'];
const FIELDS = ['on', 'level', 'location'];

type WriteOp =
  | { kind: 'put'; obj: string; fields: Record<string, number> }
  | { kind: 'patch'; obj: string; field: string; value: number }
  | { kind: 'deleteField'; obj: string; field: string }
  | { kind: 'deleteObject'; obj: string };

type Step =
  | { t: 'write'; replica: number; op: WriteOp }
  | { t: 'clock'; replica: number; deltaMs: number }
  | { t: 'deliver'; pick: number; keep: boolean }
  | { t: 'drop'; pick: number }
  | { t: 'sync'; from: number; to: number; maxRecords: number };

const obj = fc.constantFrom(...OBJS);
const field = fc.constantFrom(...FIELDS);
const writeOp: fc.Arbitrary<WriteOp> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('put' as const), obj, fields: fc.dictionary(field, fc.integer({ min: 0, max: 9 }), { maxKeys: 3 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('patch' as const), obj, field, value: fc.integer({ min: 0, max: 9 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('deleteField' as const), obj, field }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteObject' as const), obj }) },
);

function stepArb(n: number): fc.Arbitrary<Step> {
  const replica = fc.integer({ min: 0, max: n - 1 });
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ t: fc.constant('write' as const), replica, op: writeOp }) },
    // Clocks drift both ways, including backwards jumps.
    { weight: 2, arbitrary: fc.record({ t: fc.constant('clock' as const), replica, deltaMs: fc.integer({ min: -200, max: 500 }) }) },
    { weight: 5, arbitrary: fc.record({ t: fc.constant('deliver' as const), pick: fc.nat(), keep: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('drop' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('sync' as const), from: replica, to: replica, maxRecords: fc.integer({ min: 1, max: 4 }) }) },
  );
}

const scenario = fc.integer({ min: 2, max: 5 }).chain((n) => fc.tuple(fc.constant(n), fc.array(stepArb(n), { maxLength: 60 })));

interface InFlight {
  to: number;
  records: StoreRecord[];
  covers: { origin: StoreRecord['origin']; from: number; to: number }[];
}

function applyWrite(r: Replica, op: WriteOp): StoreRecord[] {
  switch (op.kind) {
    case 'put':
      return r.store.put(op.obj, op.fields).records;
    case 'patch':
      return r.store.patch(op.obj, { [op.field]: op.value }).records;
    case 'deleteField':
      return r.store.deleteField(op.obj, op.field).records;
    case 'deleteObject':
      return r.store.deleteObject(op.obj).records;
  }
}

/** Plays a schedule: writes push to every other replica through a lossy, reordering, duplicating network. */
function play(n: number, steps: readonly Step[]): Replica[] {
  const replicas = makeReplicas(n);
  const net: InFlight[] = [];
  for (const s of steps) {
    if (s.t === 'write') {
      const records = applyWrite(replicas[s.replica] as Replica, s.op);
      for (let to = 0; to < n; to++) if (to !== s.replica) net.push({ to, records, covers: [] });
    } else if (s.t === 'clock') (replicas[s.replica] as Replica).clock.advance(s.deltaMs);
    else if (s.t === 'deliver' && net.length > 0) {
      const i = s.pick % net.length;
      const m = net[i] as InFlight;
      if (!s.keep) net.splice(i, 1);
      (replicas[m.to] as Replica).store.merge(m.records, m.covers);
    } else if (s.t === 'drop' && net.length > 0) net.splice(s.pick % net.length, 1);
    else if (s.t === 'sync' && s.from !== s.to) {
      // An anti-entropy reply computed now but delivered later (or never).
      const batch = (replicas[s.from] as Replica).store.deltasFor((replicas[s.to] as Replica).store.digest(), { maxRecords: s.maxRecords, maxBytes: 10_000 });
      net.push({ to: s.to, records: batch.records, covers: batch.covers });
    }
  }
  return replicas;
}

describe('store convergence (property)', () => {
  it('any writes on 2-5 replicas under any delivery schedule converge after repair', () => {
    fc.assert(
      fc.property(scenario, ([n, steps]) => {
        const replicas = play(n, steps);
        repairAll(replicas);
        const hashes = replicas.map((r) => canonicalHash(r.store));
        expect(new Set(hashes).size).toBe(1);
        const digests = replicas.map((r) => JSON.stringify(r.store.digest()));
        expect(new Set(digests).size).toBe(1);
        const views = replicas.map((r) => JSON.stringify(r.store.list()));
        expect(new Set(views).size).toBe(1);
      }),
      PROP_PARAMS,
    );
  });

  it('a peer that merges deltasFor(its digest) holds everything the sender holds', () => {
    fc.assert(
      fc.property(scenario, fc.boolean(), ([n, steps], emptyPeer) => {
        const replicas = play(n, steps);
        const [sender, peer] = replicas as [Replica, Replica];
        const target = emptyPeer ? (makeReplicas(5)[4] as Replica) : peer;
        const batch = sender.store.deltasFor(target.store.digest());
        expect(batch.complete).toBe(true);
        target.store.merge(batch.records, batch.covers);
        for (const r of sender.store.records()) expect(dominates(target.store, r)).toBe(true);
        if (emptyPeer) {
          expect(canonicalHash(target.store)).toBe(canonicalHash(sender.store));
          expect(target.store.list()).toEqual(sender.store.list());
        }
      }),
      PROP_PARAMS,
    );
  });

  it('deltas never carry superseded records, and respect their limits', () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 600 }), ([n, steps], maxRecords, maxBytes) => {
        const replicas = play(n, steps);
        const sender = replicas[0] as Replica;
        const held = new Set(sender.store.records());
        const digest = (replicas[1] as Replica).store.digest();
        const batch = sender.store.deltasFor(digest, { maxRecords, maxBytes });
        const keys = new Set<string>();
        for (const r of batch.records) {
          expect(held.has(r)).toBe(true);
          const key = `${r.objectId}\u0000${r.field}`;
          expect(keys.has(key)).toBe(false);
          keys.add(key);
          expect(r.seq).toBeGreaterThan(digest[r.origin] ?? 0);
        }
        expect(batch.records.length).toBeLessThanOrEqual(maxRecords);
        // Per origin, records come in ascending seq order.
        const lastSeq = new Map<string, number>();
        for (const r of batch.records) {
          expect(r.seq).toBeGreaterThan(lastSeq.get(r.origin) ?? 0);
          lastSeq.set(r.origin, r.seq);
        }
      }),
      PROP_PARAMS,
    );
  });
});

describe('merge algebra (property)', () => {
  // Record sets produced by independent histories, including superseded records.
  const recordSets = fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), writeOp, fc.integer({ min: -50, max: 200 })), { maxLength: 40 }).map((ops) => {
    const replicas = makeReplicas(3);
    const sets: StoreRecord[][] = [[], [], []];
    for (const [i, op, dt] of ops) {
      const r = replicas[i] as Replica;
      r.clock.advance(dt);
      // Each replica sees what it wrote so far from the others sometimes, so stamps interleave causally.
      (sets[i] as StoreRecord[]).push(...applyWrite(r, op));
      if (dt % 3 === 0) r.store.merge(sets[(i + 1) % 3] as StoreRecord[]);
    }
    return sets as [StoreRecord[], StoreRecord[], StoreRecord[]];
  });

  function mergedHash(...groups: StoreRecord[][]): string {
    const r = makeReplicas(5)[4] as Replica;
    for (const g of groups) r.store.merge(g);
    return canonicalHash(r.store);
  }

  it('is commutative', () => {
    fc.assert(fc.property(recordSets, ([a, b]) => {
      expect(mergedHash(a, b)).toBe(mergedHash(b, a));
    }), PROP_PARAMS);
  });

  it('is associative', () => {
    fc.assert(
      fc.property(recordSets, ([a, b, c]) => {
        // (a ∪ b) ∪ c: merge a and b into one replica, ship its state, then c.
        const ab = makeReplicas(5)[4] as Replica;
        ab.store.merge(a);
        ab.store.merge(b);
        const left = mergedHash([...ab.store.records()], c);
        const bc = makeReplicas(5)[4] as Replica;
        bc.store.merge(b);
        bc.store.merge(c);
        const right = mergedHash(a, [...bc.store.records()]);
        expect(left).toBe(right);
      }),
      PROP_PARAMS,
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(recordSets, ([a, b]) => {
        expect(mergedHash(a, b, a, b)).toBe(mergedHash(a, b));
        // In any order, record by record.
        expect(mergedHash([...b].reverse(), [...a].reverse())).toBe(mergedHash(a, b));
      }),
      PROP_PARAMS,
    );
  });
});

describe('journal and reload (property)', () => {
  it('replaying the journal mirrors exactly what the store holds, and load() restores it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), writeOp, fc.boolean()), { maxLength: 50 }),
        fc.integer({ min: 0, max: 3 }),
        (ops, gcDays) => {
          const replicas = makeReplicas(3);
          const target = replicas[0] as Replica;
          const mirror = new Map<string, StoreRecord>();
          const replay = (journal: readonly JournalEntry[]): void => {
            for (const j of journal) {
              if (j.op === 'put') mirror.set(`${j.record.objectId}\u0000${j.record.field}`, j.record);
              else mirror.delete(`${j.objectId}\u0000${j.field}`);
            }
          };
          for (const [i, op, ship] of ops) {
            const r = replicas[i] as Replica;
            r.clock.advance(3);
            const res = i === 0 ? applyWriteResult(target, op) : applyWriteResult(r, op);
            if (i === 0) replay(res.journal);
            else if (ship) replay(target.store.merge(res.records).journal);
          }
          replay(target.store.collectGarbage(target.clock.now() + gcDays * 3 * 24 * 3600 * 1000));
          expect(new Set(mirror.values())).toEqual(new Set(target.store.records()));
          const restored = makeReplicas(1)[0] as Replica;
          // Our own clock may have gone back across a restart: load must not refuse our data.
          restored.clock.set(0);
          const fresh = new Store({ nodeId: target.store.nodeId, clock: restored.clock });
          fresh.load([...mirror.values()], target.store.digest());
          expect(canonicalHash(fresh)).toBe(canonicalHash(target.store));
          expect(fresh.digest()).toEqual(target.store.digest());
          expect(fresh.stats()).toEqual(target.store.stats());
          // The restored replica continues its own sequence where it left off.
          const next = fresh.patch('after-restart', { v: 1 }).records[0] as StoreRecord;
          expect(next.seq).toBe((target.store.digest()[target.store.nodeId] ?? 0) + 1);
        },
      ),
      PROP_PARAMS,
    );
  });
});

function applyWriteResult(r: Replica, op: WriteOp): WriteResult {
  switch (op.kind) {
    case 'put':
      return r.store.put(op.obj, op.fields);
    case 'patch':
      return r.store.patch(op.obj, { [op.field]: op.value });
    case 'deleteField':
      return r.store.deleteField(op.obj, op.field);
    case 'deleteObject':
      return r.store.deleteObject(op.obj);
  }
}
