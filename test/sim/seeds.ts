import { SCENARIOS } from '../../src/sim/scenarios.ts';

/** CI's seed plan: SEEDS_PER_SCENARIO seeds for every scenario, mesh sizes 3 to 8. */
export const SEEDS_PER_SCENARIO = Number(process.env.CHORUS_SIM_SEEDS ?? 24);

/** [scenario, nodes, seed] triples, split into `parts` interleaved shares. */
export function seedPlan(part: number, parts: number): [string, number, number][] {
  const out: [string, number, number][] = [];
  let k = 0;
  for (const s of SCENARIOS) {
    for (let i = 0; i < SEEDS_PER_SCENARIO; i++, k++) {
      if (k % parts !== part) continue;
      const nodes = Math.max(s.minNodes, [5, 3, 8, 5, 6][i % 5] as number);
      out.push([s.name, nodes, 1000 + i * 7919 + s.name.length]);
    }
  }
  return out;
}
