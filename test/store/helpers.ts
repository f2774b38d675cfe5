import { createHash } from 'node:crypto';
import { ManualClock } from '../../src/core/clock.ts';
import type { NodeId } from '../../src/core/ids.ts';
import { compareRecords, OBJECT_FIELD, Store, TOMBSTONE, type StoreRecord } from '../../src/store/index.ts';

/** Five well-formed node ids, in ascending order. */
export const NODE_IDS = ['1', '3', '5', '7', '9'].map((c) => c.repeat(32) as NodeId);

/** Property-run count: at least 1000 in CI, overridable for local soak runs. */
export const PROP_RUNS = Math.max(1, Number(process.env.CHORUS_PROP_RUNS ?? 1000));

/**
 * fast-check parameters shared by the store properties. A failure prints its seed and path;
 * replay it with CHORUS_PROP_SEED=<seed> CHORUS_PROP_PATH=<path> npx vitest run test/store.
 */
export const PROP_PARAMS = {
  numRuns: PROP_RUNS,
  verbose: 1 as const,
  ...(process.env.CHORUS_PROP_SEED ? { seed: Number(process.env.CHORUS_PROP_SEED) } : {}),
  ...(process.env.CHORUS_PROP_PATH ? { path: process.env.CHORUS_PROP_PATH } : {}),
};

/** A replica with its own hand-driven clock. */
export interface Replica {
  readonly store: Store;
  readonly clock: ManualClock;
}

/** `n` replicas whose clocks start at the same instant. */
export function makeReplicas(n: number, startMs = 1_700_000_000_000): Replica[] {
  return NODE_IDS.slice(0, n).map((nodeId) => {
    const clock = new ManualClock(startMs);
    return { store: new Store({ nodeId, clock }), clock };
  });
}

function recordKey(r: StoreRecord): string {
  return JSON.stringify([r.objectId, r.field, r.value === TOMBSTONE ? '<tombstone>' : r.value, r.ts.ms, r.ts.lc, r.origin, r.seq]);
}

/** A hash of everything a replica holds, independent of insertion order. */
export function canonicalHash(store: Store): string {
  const lines = [...store.records()].map(recordKey).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** True when `store` holds `r` or something that beats it in the same register. */
export function dominates(store: Store, r: StoreRecord): boolean {
  for (const h of store.records()) {
    if (h.objectId !== r.objectId) continue;
    if (h.field === r.field && compareRecords(h, r) >= 0) return true;
    if (h.field === OBJECT_FIELD && compareRecords(h, r) >= 0) return true;
  }
  return false;
}

/** Runs pairwise anti-entropy with small batches until nothing changes; returns the rounds taken. */
export function repairAll(replicas: readonly Replica[], limits = { maxRecords: 3, maxBytes: 400 }): number {
  for (let round = 1; round <= 10_000; round++) {
    let changed = false;
    for (const a of replicas) {
      for (const b of replicas) {
        if (a === b) continue;
        const before = JSON.stringify(b.store.digest());
        const batch = a.store.deltasFor(b.store.digest(), limits);
        const res = b.store.merge(batch.records, batch.covers);
        if (res.records.length > 0 || JSON.stringify(b.store.digest()) !== before) changed = true;
      }
    }
    if (!changed) return round;
  }
  throw new Error('anti-entropy did not quiesce within 10,000 rounds');
}
