import fc from 'fast-check';
import { expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import type { StorageAdapter } from '../../src/storage/storage-adapter.ts';
import type { StoreRecord } from '../../src/store/record.ts';
import { Store, type JournalEntry } from '../../src/store/store.ts';
import { A, B, C, storeLines } from './fixtures.ts';
import type { MakeAdapter } from './adapter-suite.ts';

const OBJS = ['lamp', 'door', 'boiler'];
const FIELDS = ['on', 'level', 'location'];
const TTL_MS = 3000;
const START_MS = 1_700_000_000_000;

type Write =
  | { kind: 'put'; obj: string; fields: Record<string, number> }
  | { kind: 'patch'; obj: string; field: string; value: number | { deep: number[] } }
  | { kind: 'deleteField'; obj: string; field: string }
  | { kind: 'deleteObject'; obj: string };

type Step =
  | { t: 'local'; w: Write }
  | { t: 'remote'; peer: number; w: Write }
  | { t: 'deliver'; peer: number; pick: number; count: number }
  | { t: 'sync'; peer: number; maxRecords: number }
  | { t: 'clock'; deltaMs: number }
  | { t: 'gc'; advanceMs: number }
  | { t: 'commit' };

const obj = fc.constantFrom(...OBJS);
const field = fc.constantFrom(...FIELDS);
const write: fc.Arbitrary<Write> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('put' as const), obj, fields: fc.dictionary(field, fc.integer({ min: 0, max: 9 }), { maxKeys: 3 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('patch' as const), obj, field, value: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.record({ deep: fc.array(fc.integer(), { maxLength: 3 }) })) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('deleteField' as const), obj, field }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('deleteObject' as const), obj }) },
);
const peer = fc.integer({ min: 0, max: 1 });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('local' as const), w: write }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('remote' as const), peer, w: write }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('deliver' as const), peer, pick: fc.nat(), count: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('sync' as const), peer, maxRecords: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('clock' as const), deltaMs: fc.integer({ min: -500, max: 2000 }) }) },
  // GC after a jump that may pass the tombstone TTL
  { weight: 2, arbitrary: fc.record({ t: fc.constant('gc' as const), advanceMs: fc.integer({ min: 0, max: 2 * TTL_MS }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('commit' as const) }) },
);

function applyWrite(store: Store, w: Write): { records: StoreRecord[]; journal: JournalEntry[] } {
  switch (w.kind) {
    case 'put':
      return store.put(w.obj, w.fields);
    case 'patch':
      return store.patch(w.obj, { [w.field]: w.value });
    case 'deleteField':
      return store.deleteField(w.obj, w.field);
    case 'deleteObject':
      return store.deleteObject(w.obj);
  }
}

/**
 * Drives a real Store (node A, with peers B and C writing and syncing into it) through random
 * writes, out-of-order deliveries, anti-entropy, clock jumps and tombstone GC, mirroring every
 * journal and the digest into the adapter, sometimes several steps per batch. Loading the
 * adapter into a fresh Store must give the same records and digest.
 */
async function playAndCompare(adapter: StorageAdapter, steps: readonly Step[]): Promise<void> {
  const clock = new ManualClock(START_MS);
  const options = { tombstoneTtlMs: TTL_MS };
  const store = new Store({ nodeId: A, clock, options });
  const peers = [B, C].map((nodeId) => ({ store: new Store({ nodeId, clock, options }), outbox: [] as StoreRecord[] }));
  let pending: JournalEntry[] = [];
  const commit = async (): Promise<void> => {
    await adapter.apply({ journal: pending, watermarks: store.digest() });
    pending = [];
  };
  for (const s of steps) {
    if (s.t === 'local') pending.push(...applyWrite(store, s.w).journal);
    else if (s.t === 'remote') {
      const p = peers[s.peer] as (typeof peers)[number];
      p.outbox.push(...applyWrite(p.store, s.w).records);
    } else if (s.t === 'deliver') {
      const p = peers[s.peer] as (typeof peers)[number];
      if (p.outbox.length === 0) continue;
      const at = s.pick % p.outbox.length;
      pending.push(...store.merge(p.outbox.splice(at, s.count)).journal);
    } else if (s.t === 'sync') {
      const p = peers[s.peer] as (typeof peers)[number];
      const batch = p.store.deltasFor(store.digest(), { maxRecords: s.maxRecords, maxBytes: 100_000 });
      pending.push(...store.merge(batch.records, batch.covers).journal);
    } else if (s.t === 'clock') clock.advance(s.deltaMs);
    else if (s.t === 'gc') {
      clock.advance(s.advanceMs);
      pending.push(...store.collectGarbage(clock.now()));
    }
    else await commit();
  }
  await commit();

  const state = await adapter.load();
  expect(state.skipped ?? 0).toBe(0);
  const restored = new Store({ nodeId: A, clock: new ManualClock(START_MS), options });
  const res = restored.load(state.records, state.digest);
  expect(res.rejected).toEqual({});
  expect(storeLines(restored)).toEqual(storeLines(store));
  expect(restored.digest()).toEqual(store.digest());
  expect(restored.list()).toEqual(store.list());
}

/** The property part of the acceptance suite. */
export function adapterPropertyTests(makeAdapter: MakeAdapter): void {
  it('mirrors a randomly driven Store exactly (property, 200 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 60 }), async (steps) => {
        const { adapter } = await makeAdapter();
        try {
          await playAndCompare(adapter, steps);
        } finally {
          await adapter.close();
        }
      }),
      { numRuns: 200, verbose: 1 },
    );
  });
}
