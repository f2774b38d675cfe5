import * as Y from 'yjs';
import { ManualClock } from '../src/core/clock.ts';
import type { NodeId } from '../src/core/ids.ts';
import { decodeRecords, encodeRecords, Store, type StoreRecord } from '../src/store/index.ts';
import { alternate, median, timed } from './measure.ts';
import type { Bench, BenchOptions } from './types.ts';
import { fixedIdDoc } from './yjs-doc.ts';

// An empty replica catching up on N remote writes, one per key, each delivered as its own
// message (Yjs receives binary updates, so Chorus is charged for decoding too), then serving
// everything to a peer that has nothing. Encoding and update capture happen outside the clock.

const SOURCE_ID = 'b'.repeat(32) as NodeId;
const REPLICA_ID = 'c'.repeat(32) as NodeId;
const START_MS = 1_700_000_000_000;
const BATCH = 1000;

const valueOf = (i: number): number => i * 7 + 3;
const keyOf = (i: number): string => `o${i}`;

interface Fixture {
  readonly n: number;
  /** Shared by source and replicas so the replica never sees stamps beyond the drift guard. */
  readonly clock: ManualClock;
  readonly messages: readonly Uint8Array[];
  readonly batches: readonly Uint8Array[];
  readonly updates: readonly Uint8Array[];
}

function makeFixture(n: number): Fixture {
  const clock = new ManualClock(START_MS);
  const source = new Store({ nodeId: SOURCE_ID, clock });
  const records: StoreRecord[] = [];
  for (let i = 0; i < n; i++) {
    clock.advance(1);
    records.push(...source.patch(keyOf(i), { v: valueOf(i) }).records);
  }
  if (records.length !== n) throw new Error(`source produced ${records.length} records, expected ${n}`);
  const batches: Uint8Array[] = [];
  for (let i = 0; i < n; i += BATCH) batches.push(encodeRecords(records.slice(i, i + BATCH)));

  const doc = fixedIdDoc();
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => void updates.push(u));
  const map = doc.getMap<number>('m');
  for (let i = 0; i < n; i++) doc.transact(() => map.set(keyOf(i), valueOf(i)));
  if (updates.length !== n) throw new Error(`yjs source produced ${updates.length} updates, expected ${n}`);
  return { n, clock, messages: records.map((r) => encodeRecords([r])), batches, updates };
}

function checkReplica(replica: Store, n: number, what: string): void {
  const { objects, liveFields } = replica.stats();
  if (objects !== n || liveFields !== n) throw new Error(`chorus ${what}: replica holds ${objects} objects / ${liveFields} fields, expected ${n}`);
  for (let i = 0; i < n; i++) {
    const v = replica.get(keyOf(i))?.['v'];
    if (v !== valueOf(i)) throw new Error(`chorus ${what}: ${keyOf(i)}.v is ${String(v)}, expected ${valueOf(i)}`);
  }
}

function checkYjs(doc: Y.Doc, n: number, what: string): void {
  const map = doc.getMap<number>('m');
  if (map.size !== n) throw new Error(`yjs ${what}: map has ${map.size} keys, expected ${n}`);
  for (let i = 0; i < n; i++) {
    const v = map.get(keyOf(i));
    if (v !== valueOf(i)) throw new Error(`yjs ${what}: ${keyOf(i)} is ${String(v)}, expected ${valueOf(i)}`);
  }
}

interface ChorusSample {
  readonly mergesPerS: number;
  readonly deltasPerS: number;
  readonly batchedMergesPerS: number;
}

function runChorus(f: Fixture): ChorusSample {
  const replica = new Store({ nodeId: REPLICA_ID, clock: f.clock });
  const merge = timed(() => {
    for (const m of f.messages) replica.merge(decodeRecords(m));
  });
  checkReplica(replica, f.n, 'one-by-one merge');
  const rejected = replica.rejections();
  if (Object.keys(rejected).length > 0) throw new Error(`chorus: merges rejected records: ${JSON.stringify(rejected)}`);
  const deltas = timed(() => replica.deltasFor({}));
  if (deltas.value.records.length !== f.n || !deltas.value.complete) throw new Error(`chorus: deltasFor({}) returned ${deltas.value.records.length} records, expected ${f.n}`);

  const batched = new Store({ nodeId: REPLICA_ID, clock: f.clock });
  const batch = timed(() => {
    for (const b of f.batches) batched.merge(decodeRecords(b));
  });
  checkReplica(batched, f.n, 'batched merge');
  return { mergesPerS: f.n / merge.seconds, deltasPerS: f.n / deltas.seconds, batchedMergesPerS: f.n / batch.seconds };
}

interface YjsSample {
  readonly appliesPerS: number;
  readonly deltaItemsPerS: number;
}

function runYjs(f: Fixture): YjsSample {
  const target = new Y.Doc();
  const apply = timed(() => {
    for (const u of f.updates) Y.applyUpdate(target, u);
  });
  checkYjs(target, f.n, 'apply');
  const emptyStateVector = Y.encodeStateVector(new Y.Doc());
  const deltas = timed(() => Y.encodeStateAsUpdate(target, emptyStateVector));
  const check = new Y.Doc();
  Y.applyUpdate(check, deltas.value);
  checkYjs(check, f.n, 'state-as-update');
  return { appliesPerS: f.n / apply.seconds, deltaItemsPerS: f.n / deltas.seconds };
}

async function run({ quick, log }: BenchOptions) {
  const n = quick ? 5_000 : 100_000;
  const repetitions = quick ? 2 : 5;
  const fixture = makeFixture(n);
  // One discarded run of each first, so neither system's median includes JIT warm-up.
  runChorus(fixture);
  runYjs(fixture);
  log('warm-up done');
  const chorus: ChorusSample[] = [];
  const yjs: YjsSample[] = [];
  for (let rep = 0; rep < repetitions; rep++) {
    for (const system of alternate(['chorus', 'yjs'] as const, rep)) {
      if (system === 'chorus') {
        const s = runChorus(fixture);
        chorus.push(s);
        log(`rep ${rep + 1}/${repetitions} chorus: ${Math.round(s.mergesPerS)} merges/s, ${Math.round(s.deltasPerS)} deltas/s, ${Math.round(s.batchedMergesPerS)} batched merges/s`);
      } else {
        const s = runYjs(fixture);
        yjs.push(s);
        log(`rep ${rep + 1}/${repetitions} yjs: ${Math.round(s.appliesPerS)} applies/s, ${Math.round(s.deltaItemsPerS)} delta items/s`);
      }
      await Promise.resolve();
    }
  }
  const results = {
    chorus: {
      merges_per_s: median(chorus.map((s) => s.mergesPerS)),
      deltas_per_s: median(chorus.map((s) => s.deltasPerS)),
      batched_merges_per_s: median(chorus.map((s) => s.batchedMergesPerS)),
    },
    yjs: {
      applies_per_s: median(yjs.map((s) => s.appliesPerS)),
      deltas_items_per_s: median(yjs.map((s) => s.deltaItemsPerS)),
    },
  };
  return {
    results,
    ratios: {
      merge_per_s_vs_yjs: results.chorus.merges_per_s / results.yjs.applies_per_s,
      batched_merge_per_s_vs_yjs: results.chorus.batched_merges_per_s / results.yjs.applies_per_s,
      deltas_per_s_vs_yjs: results.chorus.deltas_per_s / results.yjs.deltas_items_per_s,
    },
    goals: { merge_per_s_vs_yjs: '>= 1.5' },
    params: {
      writes: n,
      repetitions,
      batch_size: BATCH,
      workload: 'one remote write per key: object o<i>, field v, value 7i+3; source and replicas share one ManualClock (+1 ms per write)',
      chorus_merge: 'each record pre-encoded with encodeRecords([rec]); timed: decodeRecords + store.merge per message into an empty Store',
      chorus_batched: `informational: encodeRecords of ${BATCH} records per message, decoded and merged per batch`,
      chorus_deltas: 'records returned by replica.deltasFor({}) / time of that call (checked to be all of them)',
      yjs_apply: "source doc clientID fixed (bench/yjs-doc.ts); each map.set(o<i>, 7i+3) in its own transaction captured from doc.on('update'); timed: Y.applyUpdate per update into an empty doc",
      yjs_deltas: 'informational: items / time of Y.encodeStateAsUpdate(doc, emptyStateVector)',
      timing: 'one discarded warm-up run per system, then the median over repetitions; systems alternate order between repetitions; fresh replica each repetition',
    },
  };
}

/** Store merge: an empty replica catching up one message at a time, then serving deltas. */
export const bench: Bench = {
  description: 'store merge: remote writes (100k; 5k with --quick) merged one message at a time into an empty replica, then deltas for an empty digest, vs Yjs',
  run,
};
