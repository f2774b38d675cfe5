import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../src/sim/scenarios.ts';
import { SYNC_PRESETS } from '../../src/sync/config.ts';
import { seedPlan, SEEDS_PER_SCENARIO, SHARDS } from './seeds.ts';

describe('the CI seed plan', () => {
  const plan = Array.from({ length: SHARDS }, (_, k) => seedPlan(k, SHARDS)).flat();

  it('runs every scenario at 24 seeds or more, at a small size and above full fanout', () => {
    expect(SEEDS_PER_SCENARIO).toBeGreaterThanOrEqual(24);
    for (const s of SCENARIOS) {
      const runs = plan.filter(([name]) => name === s.name);
      expect(new Set(runs.map(([, , seed]) => seed)).size, s.name).toBeGreaterThanOrEqual(24);
      const sizes = new Set(runs.map(([, nodes]) => nodes));
      expect([...sizes].some((n) => n > SYNC_PRESETS.lan.fullFanoutMaxMembers), s.name).toBe(true);
      expect([...sizes].some((n) => n <= SYNC_PRESETS.lan.fullFanoutMaxMembers), s.name).toBe(true);
    }
  });

  it('names the new scenarios, each at least at its minimum size', () => {
    const names = SCENARIOS.map((s) => s.name);
    for (const n of ['away-past-ttl', 'restart-past-ttl', 'relay-before-ttl', 'clock-jump-far', 'clock-drift', 'restore-backup', 'generation-regress', 'isolate-heal', 'disk-full']) expect(names).toContain(n);
    for (const [name, nodes] of plan) expect(nodes).toBeGreaterThanOrEqual(SCENARIOS.find((s) => s.name === name)?.minNodes ?? Infinity);
  });
});
