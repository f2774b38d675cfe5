// Runs thousands of simulated seeds over every scenario and prints each failure's replay command.
// Usage: npm run sim:soak -- [--seeds-per-scenario N] [--start S]
import { runScenario } from '../src/sim/run.ts';
import { SCENARIOS } from '../src/sim/scenarios.ts';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const perScenario = arg('--seeds-per-scenario', 250);
const start = arg('--start', 1);
let runs = 0;
let failed = 0;
for (const s of SCENARIOS) {
  for (let seed = start; seed < start + perScenario; seed++) {
    const nodes = Math.max(s.minNodes, 3 + (seed % 8));
    const v = runScenario({ scenario: s.name, nodes, seed, trace: false });
    runs++;
    if (v.failures.length > 0) {
      failed++;
      console.log(`FAIL ${v.failures.join('; ')}\n  replay: ${v.replay}`);
    }
  }
  console.log(`${s.name}: done (${runs} runs, ${failed} failed so far)`);
}
console.log(`${runs - failed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
