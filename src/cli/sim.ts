import { type Command, InvalidArgumentError } from 'commander';
import { runScenario } from '../sim/run.ts';
import { SCENARIOS } from '../sim/scenarios.ts';

function integer(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got "${v}"`);
    return n;
  };
}

/** `chorus sim`: runs the real protocol cores over a simulated network, reproducibly. */
export function registerSim(program: Command): void {
  program
    .command('sim')
    .description('simulate a mesh of N nodes under a named fault scenario (virtual time, seeded)')
    .option('--scenario <name>', `one of: ${SCENARIOS.map((s) => s.name).join(', ')}`, 'steady')
    .option('--nodes <n>', 'number of nodes', integer('--nodes'), 5)
    .option('--seed <s>', 'PRNG seed; the same seed replays the same run', integer('--seed'), 1)
    .option('--json', 'print one JSON object')
    .option('--list', 'list the scenarios and exit')
    .action((o: { scenario: string; nodes: number; seed: number; json?: boolean; list?: boolean }) => {
      if (o.list) {
        for (const s of SCENARIOS) console.log(`${s.name.padEnd(14)} ${s.description}`);
        return;
      }
      const { outcome, failures, replay } = runScenario({ scenario: o.scenario, nodes: o.nodes, seed: o.seed });
      const { seed, traceHash, converged, convergenceMs, rounds, messages, bytesPerNodePerS, falseDeaths, lostAckedWrites, resurrections } = outcome;
      const summary = { scenario: outcome.scenario, nodes: outcome.nodes, seed, traceHash, converged, convergenceMs, rounds, messages, bytesPerNodePerS, falseDeaths, lostAckedWrites, resurrections, membershipCorrect: outcome.membershipCorrect, acknowledgedWrites: outcome.acknowledgedWrites, virtualMs: outcome.virtualMs, wallMs: outcome.wallMs, ok: failures.length === 0 };
      if (o.json) console.log(JSON.stringify(summary));
      else for (const [k, v] of Object.entries(summary)) console.log(`${k.padEnd(20)} ${String(v)}`);
      if (failures.length > 0) {
        console.error(`FAILED: ${failures.join('; ')}\nreplay: ${replay}`);
        process.exitCode = 1;
      }
    });
}
