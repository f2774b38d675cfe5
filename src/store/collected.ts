import { compareTs, isTimestamp, type Timestamp } from '../core/hlc.ts';
import { isNodeId } from '../core/ids.ts';
import type { Digest } from './types.ts';

/**
 * What a replica has collected (forgotten) of its tombstones: the highest stamp of any
 * tombstone it dropped (`horizon`) and, per origin, the highest seq of one (`floors`).
 * Peers exchange it with every digest: a replica whose watermark for some origin is below a
 * peer's floor never saw a deletion that peer has forgotten, and must verify its records
 * against the peer's snapshot before its covers or its data are trusted (see decision 0005).
 */
export interface Collected {
  readonly horizon: Timestamp;
  readonly floors: Digest;
}

/** Nothing collected. */
export const NOTHING_COLLECTED: Collected = Object.freeze({ horizon: Object.freeze({ ms: 0, lc: 0 }), floors: Object.freeze({}) });

/** The later of two horizons and the per-origin maximum of their floors. */
export function joinCollected(a: Collected, b: Collected): Collected {
  const floors: Digest = { ...a.floors };
  for (const [origin, seq] of Object.entries(b.floors)) floors[origin] = Math.max(seq, floors[origin] ?? 0);
  return { horizon: compareTs(a.horizon, b.horizon) >= 0 ? a.horizon : b.horizon, floors };
}

/** Origins of `floors` whose floor lies above `digest`'s watermark (empty: nothing collected there is unknown to us). */
export function unseenFloors(digest: Readonly<Record<string, number>>, floors: Readonly<Record<string, number>>): string[] {
  const out: string[] = [];
  for (const [origin, seq] of Object.entries(floors)) if ((digest[origin] ?? 0) < seq) out.push(origin);
  return out;
}

/** A Collected read from storage or the wire, or undefined when it is not one. */
export function parseCollected(x: unknown): Collected | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const { horizon, floors } = x as { horizon?: unknown; floors?: unknown };
  if (!isTimestamp(horizon) || typeof floors !== 'object' || floors === null || Array.isArray(floors)) return undefined;
  const out: Digest = {};
  for (const [origin, seq] of Object.entries(floors)) {
    if (!isNodeId(origin) || !Number.isSafeInteger(seq) || (seq as number) < 1) return undefined;
    out[origin] = seq as number;
  }
  return { horizon: { ms: horizon.ms, lc: horizon.lc }, floors: out };
}
