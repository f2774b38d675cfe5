import { benchNames, loadBench } from './registry.ts';
import { toJsonLine, toTable } from './report.ts';

// Usage: node --expose-gc --import tsx bench/run.ts NAME [--json] [--quick]
// Exit codes: 0 ran (goals are reported, not enforced), 1 the benchmark failed, 2 bad usage.

const USAGE = 'usage: npm run bench -- NAME [--json] [--quick]';

interface Args {
  readonly name: string;
  readonly json: boolean;
  readonly quick: boolean;
}

function parseArgs(argv: readonly string[]): Args | string {
  const names: string[] = [];
  let json = false;
  let quick = false;
  for (const a of argv) {
    if (a === '--json') json = true;
    else if (a === '--quick') quick = true;
    else if (a.startsWith('-')) return `unknown option ${a}`;
    else names.push(a);
  }
  if (names.length !== 1) return names.length === 0 ? 'no benchmark named' : `one benchmark at a time, got ${names.join(', ')}`;
  return { name: names[0] as string, json, quick };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === 'string') {
    process.stderr.write(`${args}\n${USAGE}\nbenchmarks: ${benchNames().join(', ')}\n`);
    return 2;
  }
  const bench = await loadBench(args.name);
  if (bench === undefined) {
    process.stderr.write(`unknown benchmark "${args.name}"; known: ${benchNames().join(', ')}\n${USAGE}\n`);
    return 2;
  }
  const log = (line: string): void => void process.stderr.write(`[${args.name}] ${line}\n`);
  log(`${bench.description}${args.quick ? ' (quick: figures are a smoke test only)' : ''}`);
  const report = await bench.run({ quick: args.quick, log });
  process.stdout.write(`${args.json ? toJsonLine(args.name, report) : toTable(args.name, report)}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`benchmark failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
