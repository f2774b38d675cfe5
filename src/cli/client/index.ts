import type { Command } from 'commander';
import { EXIT_CODES_HELP } from './exit-codes.ts';
import { processIo, type Io } from './io.ts';
import { registerReadCommands } from './read-commands.ts';
import { registerWatchCommand } from './watch-command.ts';
import { registerWriteCommands } from './write-commands.ts';

/** Registers the client commands (status, members, get, set, rm, ls, watch) and documents their exit codes. */
export function registerClient(program: Command, io: Io = processIo()): void {
  registerReadCommands(program, io);
  registerWriteCommands(program, io);
  registerWatchCommand(program, io);
  program.addHelpText('after', EXIT_CODES_HELP);
}
