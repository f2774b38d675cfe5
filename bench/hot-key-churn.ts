import * as Y from 'yjs';
import { ManualClock } from '../src/core/clock.ts';
import { encode } from '../src/core/codec.ts';
import type { NodeId } from '../src/core/ids.ts';
import { encodeRecords, Store } from '../src/store/index.ts';
import { alternate, heapUsedAfterGc, median, timed } from './measure.ts';
import type { Bench, BenchOptions, Metrics } from './types.ts';
import { fixedIdDoc, YJS_CLIENT_ID } from './yjs-doc.ts';

// A few hot keys rewritten over and over (sensor readings, switch states). A last-writer-wins
// store keeps one record per key however many times it is written; an op-log CRDT keeps a
// trace of every overwrite. Rounds are key-major: round r writes every key once with value r.

const NODE_ID = 'a'.repeat(32) as NodeId;
const START_MS = 1_700_000_000_000;

interface Workload {
  readonly keys: readonly string[];
  readonly rounds: number;
}

interface Sample {
  readonly stateBytes: number;
  readonly heapGrowthBytes: number;
  readonly digestBytes: number;
  readonly seconds: number;
}

const SYSTEMS = ['chorus', 'yjs'] as const;
type System = (typeof SYSTEMS)[number];

function runChorus({ keys, rounds }: Workload): Sample {
  const before = heapUsedAfterGc();
  const clock = new ManualClock(START_MS);
  const store = new Store({ nodeId: NODE_ID, clock });
  const { seconds } = timed(() => {
    for (let r = 0; r < rounds; r++) {
      for (const key of keys) {
        clock.advance(1);
        store.patch(key, { v: r });
      }
    }
  });
  const heapGrowthBytes = heapUsedAfterGc() - before;
  for (const key of keys) {
    if (store.get(key)?.['v'] !== rounds - 1) throw new Error(`chorus: ${key} does not hold the last round's value`);
  }
  return {
    stateBytes: encodeRecords([...store.records()]).length,
    heapGrowthBytes,
    digestBytes: encode(store.digest()).length,
    seconds,
  };
}

function runYjs({ keys, rounds }: Workload): Sample {
  const before = heapUsedAfterGc();
  const doc = fixedIdDoc();
  const map = doc.getMap<number>('m');
  // One transaction per round: the stored state is the same as with one per write, and the
  // peer is not charged for 1,000,000 transaction set-ups it would not do in practice.
  const { seconds } = timed(() => {
    for (let r = 0; r < rounds; r++) {
      doc.transact(() => {
        for (const key of keys) map.set(key, r);
      });
    }
  });
  const heapGrowthBytes = heapUsedAfterGc() - before;
  if (map.size !== keys.length) throw new Error(`yjs: map has ${map.size} keys, expected ${keys.length}`);
  for (const key of keys) {
    if (map.get(key) !== rounds - 1) throw new Error(`yjs: ${key} does not hold the last round's value`);
  }
  return {
    stateBytes: Y.encodeStateAsUpdate(doc).length,
    heapGrowthBytes,
    digestBytes: Y.encodeStateVector(doc).length,
    seconds,
  };
}

const RUNNERS: Record<System, (w: Workload) => Sample> = { chorus: runChorus, yjs: runYjs };

function summarise(samples: readonly Sample[], writes: number): Metrics {
  const first = samples[0] as Sample;
  // Sizes are deterministic; a difference between repetitions would mean a broken workload.
  for (const s of samples) {
    if (s.stateBytes !== first.stateBytes || s.digestBytes !== first.digestBytes) throw new Error('encoded sizes differ between repetitions');
  }
  return {
    state_bytes: first.stateBytes,
    heap_growth_bytes: median(samples.map((s) => s.heapGrowthBytes)),
    digest_bytes: first.digestBytes,
    writes_per_s: median(samples.map((s) => writes / s.seconds)),
  };
}

async function run({ quick, log }: BenchOptions) {
  const keyCount = quick ? 100 : 1000;
  const rounds = quick ? 50 : 1000;
  const repetitions = quick ? 2 : 5;
  const workload: Workload = { keys: Array.from({ length: keyCount }, (_, i) => `k${i}`), rounds };
  const writes = keyCount * rounds;
  const samples: Record<System, Sample[]> = { chorus: [], yjs: [] };
  for (let rep = 0; rep < repetitions; rep++) {
    for (const system of alternate(SYSTEMS, rep)) {
      const s = RUNNERS[system](workload);
      samples[system].push(s);
      log(`rep ${rep + 1}/${repetitions} ${system}: ${Math.round(writes / s.seconds).toLocaleString('en-US')} writes/s, state ${s.stateBytes} B, heap +${s.heapGrowthBytes} B`);
      // Let the event loop breathe so progress output is flushed between heavy runs.
      await Promise.resolve();
    }
  }
  const chorus = summarise(samples.chorus, writes);
  const yjs = summarise(samples.yjs, writes);
  const ratio = (metric: string): number => (chorus[metric] as number) / (yjs[metric] as number);
  return {
    results: { chorus, yjs },
    ratios: {
      state_bytes_vs_yjs: ratio('state_bytes'),
      heap_growth_vs_yjs: ratio('heap_growth_bytes'),
      digest_bytes_vs_yjs: ratio('digest_bytes'),
      writes_per_s_vs_yjs: ratio('writes_per_s'),
    },
    goals: { state_bytes_vs_yjs: '<= 0.02' },
    params: {
      keys: keyCount,
      rounds,
      writes,
      repetitions,
      value: 'the round number r (same for both systems)',
      chorus_layout: 'one Store; each key is an object k<i> written with patch(k<i>, { v: r }); ManualClock +1 ms per write',
      yjs_layout: `one Y.Doc (clientID fixed at 0x${YJS_CLIENT_ID.toString(16)} for reproducible sizes), getMap('m'), map.set(k<i>, r); one doc.transact per round (${keyCount} writes)`,
      state_bytes: 'chorus: encodeRecords([...store.records()]).length; yjs: Y.encodeStateAsUpdate(doc).length',
      digest_bytes: 'chorus: msgpack of store.digest(); yjs: Y.encodeStateVector(doc).length',
      heap_growth_bytes: 'heapUsed after the writes minus before creating the system, gc before each reading; median',
      writes_per_s: 'median over repetitions; systems alternate order between repetitions',
    },
  };
}

/** Hot-key churn: state, heap and digest size after many overwrites of few keys. */
export const bench: Bench = {
  description: 'hot-key churn: few keys overwritten many times; state, heap and digest size vs Yjs',
  run,
};
