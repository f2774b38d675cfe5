// Runs many simulated seeds of every scenario at mixed mesh sizes and prints each failure with
// the command that replays it, the totals per scenario and a final "N passed, N failed" line.
// Usage: npm run sim:soak -- [--seeds-per-scenario N] [--scenario NAME]... [--start S] [--check-invariants]
import { runScenario } from '../src/sim/run.ts';
import { SCENARIOS } from '../src/sim/scenarios.ts';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = argv.indexOf(name);
  const v = i >= 0 ? Number(argv[i + 1]) : dflt;
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${name} must be a non-negative integer`);
  return v;
};
const perScenario = arg('--seeds-per-scenario', 200);
const start = arg('--start', 1);
const checkInvariants = argv.includes('--check-invariants');
const only = argv.flatMap((a, i) => (a === '--scenario' && argv[i + 1] !== undefined ? [argv[i + 1] as string] : []));
const unknown = only.filter((n) => !SCENARIOS.some((s) => s.name === n));
if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
// Small meshes most of the time, and every fifth seed a large one (above full fanout).
const SIZES = [3, 4, 5, 6, 20, 7, 8, 10, 12, 24];

let passed = 0;
let failed = 0;
const totals: string[] = [];
for (const s of SCENARIOS) {
  if (only.length > 0 && !only.includes(s.name)) continue;
  let ok = 0;
  let bad = 0;
  const firstFailure = new Map<string, number>();
  for (let seed = start; seed < start + perScenario; seed++) {
    const nodes = Math.max(s.minNodes, SIZES[seed % SIZES.length] as number);
    const v = runScenario({ scenario: s.name, nodes, seed, trace: false, checkInvariants });
    if (v.failures.length === 0) {
      ok++;
      continue;
    }
    bad++;
    console.log(`FAIL ${s.name} nodes=${nodes} seed=${seed}: ${v.failures.join('; ')}\n  replay: ${v.replay}`);
    for (const f of v.failures) {
      const kind = f.replace(/^\d+ /, 'N ').replace(/, first:.*$/, '');
      firstFailure.set(kind, (firstFailure.get(kind) ?? 0) + 1);
    }
  }
  passed += ok;
  failed += bad;
  const kinds = [...firstFailure].map(([k, n]) => `${n}× ${k}`).join('; ');
  totals.push(`${s.name.padEnd(20)} ${ok} passed, ${bad} failed${kinds ? `  (${kinds})` : ''}`);
  console.log(`${s.name}: ${ok} passed, ${bad} failed`);
}
console.log('\nper scenario:');
for (const t of totals) console.log(`  ${t}`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
