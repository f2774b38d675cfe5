import { CliError, ExitCode } from './exit-codes.ts';
import type { Io } from './io.ts';
import { NodeClient } from './node-client.ts';
import type { CommonOptions } from './options.ts';
import type { RenderMode } from './format.ts';
import { resolveTarget } from './target.ts';

/** What a command body gets: its client, how to render, and its Io. */
export interface Context {
  readonly client: NodeClient;
  readonly mode: RenderMode;
  readonly io: Io;
  /** Prints one JSON document (indented on a terminal, one line otherwise). */
  json(doc: unknown): void;
  /** Prints lines. */
  lines(lines: readonly string[]): void;
}

/** Builds the context of a command from its options. */
export function context(io: Io, o: CommonOptions): Context {
  const client = new NodeClient(resolveTarget(o, io.env));
  return {
    client,
    mode: { tty: io.tty, columns: io.columns },
    io,
    json: (doc) => io.out(io.tty ? JSON.stringify(doc, null, 2) : JSON.stringify(doc)),
    lines: (lines) => {
      for (const l of lines) io.out(l);
    },
  };
}

/**
 * Wraps a command body: a CliError becomes its message on stderr and its exit code (with a
 * pointer to the command's help for usage errors); anything else propagates (exit 1).
 */
export function run<A extends unknown[]>(io: Io, name: string, body: (...args: A) => Promise<ExitCode | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await body(...args);
      if (code !== undefined && code !== ExitCode.Ok) io.setExitCode(code);
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      io.err(`chorus ${name}: ${e.message}${e.exitCode === ExitCode.Usage ? ` (see \`chorus help ${name}\`)` : ''}`);
      io.setExitCode(e.exitCode);
    }
  };
}
