import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { registerClient } from './client/index.ts';
import { registerGeneration } from './generation.ts';
import { registerKey } from './key.ts';
import { registerSim } from './sim.ts';
import { registerStart } from './start.ts';
import { registerToken } from './token.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Builds the `chorus` command tree. */
export function buildProgram(): Command {
  const program = new Command('chorus')
    .description('Chorus: a peer-to-peer state mesh for home automation and controllers')
    .version(pkg.version)
    .showHelpAfterError()
    .exitOverride();
  registerStart(program);
  registerSim(program);
  registerKey(program);
  registerToken(program);
  registerGeneration(program);
  registerClient(program);
  return program;
}

/** Runs the CLI with `argv` (as process.argv) and resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    console.error(e instanceof Error ? e.message : String(e));
    return 1;
  }
}
