// Simulates a steady mesh of N nodes second by second and prints, per virtual second, the
// wall time so far, the heap, the messages and how many members nodes know on average.
// Usage: node --max-old-space-size=14000 --import tsx scripts/sim-scale.ts [N] [virtual seconds]
import { scenarioByName, type Scenario } from '../src/sim/scenarios.ts';
import { Simulation } from '../src/sim/simulation.ts';

const n = Number(process.argv[2] ?? 10_000);
const seconds = Number(process.argv[3] ?? 60);
const t0 = performance.now();
const sim = new Simulation({ nodes: n, seed: 500, scenario: scenarioByName('steady') as Scenario, trace: false });
sim.startAll();
for (let v = 1; v <= seconds; v++) {
  sim.runUntil(v * 1000);
  const sampled = sim.nodes.slice(0, 50);
  const known = sampled.reduce((a, x) => a + (x.engine?.membership.members().length ?? 0), 0) / sampled.length;
  const row = { virtualS: v, wallS: +((performance.now() - t0) / 1000).toFixed(1), heapGB: +(process.memoryUsage().heapUsed / 1e9).toFixed(2), messages: sim.messages, avgMembersKnown: Math.round(known) };
  console.log(JSON.stringify(row));
}
