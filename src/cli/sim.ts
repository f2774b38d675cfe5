import { type Command, InvalidArgumentError } from 'commander';
import { isChorusError } from '../core/errors.ts';
import { runScenario } from '../sim/run.ts';
import { SCENARIOS } from '../sim/scenarios.ts';
import { parseSeed } from '../sim/seed.ts';

function integer(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got "${v}"`);
    return n;
  };
}

function seed(v: string): bigint {
  try {
    return parseSeed(v);
  } catch (e) {
    if (isChorusError(e)) throw new InvalidArgumentError(e.message);
    throw e;
  }
}

/** `chorus sim`: runs the real protocol cores over a simulated network, reproducibly. */
export function registerSim(program: Command): void {
  program
    .command('sim')
    .description('simulate a mesh of N nodes under a named fault scenario (virtual time, seeded)')
    .option('--scenario <name>', `one of: ${SCENARIOS.map((s) => s.name).join(', ')}`, 'steady')
    .option('--nodes <n>', 'number of nodes', integer('--nodes'), 5)
    .option('--seed <s>', 'PRNG seed, an integer in 0..2^64-1; the same seed replays the same run', seed, 1n)
    .option('--check-invariants', "check the cores' invariants after every step (slower)")
    .option('--json', 'print one JSON object')
    .option('--list', 'list the scenarios and exit')
    .action((o: { scenario: string; nodes: number; seed: bigint; checkInvariants?: boolean; json?: boolean; list?: boolean }) => {
      if (o.list) {
        for (const s of SCENARIOS) console.log(`${s.name.padEnd(20)} ${s.description}`);
        return;
      }
      const { outcome, failures, replay } = runScenario({ scenario: o.scenario, nodes: o.nodes, seed: o.seed, ...(o.checkInvariants === true ? { checkInvariants: true } : {}) });
      const summary = { ...outcome, ok: failures.length === 0 };
      if (o.json) console.log(JSON.stringify(summary));
      else for (const [k, v] of Object.entries(summary)) console.log(`${k.padEnd(20)} ${String(v)}`);
      if (failures.length > 0) {
        console.error(`FAILED: ${failures.join('; ')}\nreplay: ${replay}`);
        process.exitCode = 1;
      }
    });
}
