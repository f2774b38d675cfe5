import { type Command, CommanderError } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ChorusError, ErrorCode, isChorusError } from '../core/errors.ts';
import { DataDir } from '../storage/data-dir.ts';

/** Default data directory, as `chorus start` uses. */
const DEFAULT_DATA = './chorus-data';

interface GenerationOptions {
  data?: string;
  force?: boolean;
  json?: boolean;
}

/** Opens an existing data directory (never creates one); a running node's lock makes this fail. */
function openExisting(o: GenerationOptions): DataDir {
  const dir = resolve(o.data ?? process.env['CHORUS_DATA'] ?? DEFAULT_DATA);
  if (!existsSync(dir)) throw new ChorusError(ErrorCode.DataDirInvalid, `data directory ${dir} does not exist`);
  return DataDir.open(dir);
}

/** Runs a generation command body; a ChorusError is printed and exits with code 2. */
function run(body: () => void): void {
  try {
    body();
  } catch (e) {
    if (!isChorusError(e)) throw e;
    console.error(`chorus generation: ${e.message}`);
    throw new CommanderError(2, e.code, e.message);
  }
}

/** Parses N: a whole number, else a ChorusError naming it. */
function parseGeneration(text: string): number {
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(n)) throw new ChorusError(ErrorCode.InvalidConfig, `generation must be a whole number, got ${JSON.stringify(text)}`);
  return n;
}

/**
 * `chorus generation`: the node's persisted generation (ESPGossip's revision, +1 at every
 * start), shown or set by hand on a stopped node, as ESPGossip's setRevManually allows.
 */
export function registerGeneration(program: Command): void {
  const generation = program.command('generation').description('show or set the persisted generation of a stopped node (+1 at every start)');
  generation
    .command('show')
    .description('print the generation last persisted (the next start runs as this + 1)')
    .option('--data <dir>', `data directory (default $CHORUS_DATA or ${DEFAULT_DATA})`)
    .option('--json', 'print {"generation": N}')
    .action((o: GenerationOptions) =>
      run(() => {
        const dir = openExisting(o);
        try {
          const g = dir.generation();
          console.log(o.json ? JSON.stringify({ generation: g }) : String(g));
        } finally {
          dir.close();
        }
      }),
    );
  generation
    .command('set')
    .description('persist N as the generation of a stopped node: the next start runs as N + 1')
    .argument('<n>', 'the new generation, a whole number')
    .option('--data <dir>', `data directory (default $CHORUS_DATA or ${DEFAULT_DATA})`)
    .option('--force', 'allow a value below the current one (peers that remember a later life ignore it until the node raises itself again)')
    .option('--json', 'print {"previous": M, "generation": N}')
    .action((text: string, o: GenerationOptions) =>
      run(() => {
        const n = parseGeneration(text);
        const dir = openExisting(o);
        try {
          const previous = dir.generation();
          if (n < previous && o.force !== true) {
            throw new ChorusError(ErrorCode.InvalidConfig, `generation ${n} is below the current ${previous}: peers would ignore the node's next life; pass --force to set it anyway`);
          }
          dir.setGeneration(n);
          if (o.json) console.log(JSON.stringify({ previous, generation: n }));
          else console.log(`generation set to ${n} (was ${previous}); the next start runs as ${n + 1}`);
        } finally {
          dir.close();
        }
      }),
    );
}
