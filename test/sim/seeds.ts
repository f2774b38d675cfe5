import { SCENARIOS } from '../../src/sim/scenarios.ts';
import { SYNC_PRESETS } from '../../src/sync/config.ts';

/** Shard files the plan is split over (scenarios-0 … scenarios-3). */
export const SHARDS = 4;

/** CI's seeds per scenario (CHORUS_SIM_SEEDS overrides). */
export const SEEDS_PER_SCENARIO = Number(process.env.CHORUS_SIM_SEEDS ?? 24);

/**
 * The large mesh size: above the lan preset's fullFanoutMaxMembers (16) even with a few nodes
 * down, so pushes go to a random fanout and are forwarded, as in a large mesh.
 */
export const LARGE_MESH = SYNC_PRESETS.lan.fullFanoutMaxMembers + 4;

/** Every LARGE_EVERY-th seed of a scenario (a quarter) runs at LARGE_MESH, the others at small sizes 3 to 8. */
const LARGE_EVERY = 4;
const SMALL = [5, 3, 8, 6] as const;

/** One CI run: scenario, nodes, seed, with the cores' invariants checked after every step. */
export type PlannedRun = [scenario: string, nodes: number, seed: number];

/** CI's seed plan, split into `parts` interleaved shares (each scenario at small and large sizes). */
export function seedPlan(part: number, parts: number): PlannedRun[] {
  const out: PlannedRun[] = [];
  // Small and large runs are dealt out separately, so every share gets its part of the large ones.
  const dealt = { small: 0, large: 0 };
  for (const s of SCENARIOS) {
    for (let i = 0; i < SEEDS_PER_SCENARIO; i++) {
      const large = i % LARGE_EVERY === LARGE_EVERY - 1;
      const k = large ? dealt.large++ : dealt.small++;
      if (k % parts !== part) continue;
      const size = large ? LARGE_MESH : (SMALL[i % SMALL.length] as number);
      out.push([s.name, Math.max(s.minNodes, size), 1000 + i * 7919 + s.name.length]);
    }
  }
  return out;
}
