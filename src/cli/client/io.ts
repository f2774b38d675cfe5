/** Where a client command writes, what it knows of its terminal, and how it is stopped. */
export interface Io {
  /** Writes one line to stdout. */
  out(line: string): void;
  /** Writes one line to stderr. */
  err(line: string): void;
  /** stdout is a terminal (tables) rather than a pipe or file (tab-separated lines). */
  readonly tty: boolean;
  readonly columns: number;
  readonly env: Readonly<Record<string, string | undefined>>;
  setExitCode(code: number): void;
  /** Aborts on Ctrl-C, SIGTERM, or when stdout's reader goes away (EPIPE). */
  interrupted(): AbortSignal;
}

/** The process's own stdout, stderr, environment and signals. */
export function processIo(): Io {
  let controller: AbortController | undefined;
  return {
    out: (line) => void process.stdout.write(`${line}\n`),
    err: (line) => void process.stderr.write(`${line}\n`),
    tty: process.stdout.isTTY === true,
    columns: process.stdout.columns || 100,
    env: process.env,
    setExitCode: (code) => {
      process.exitCode = code;
    },
    interrupted: () => {
      if (controller !== undefined) return controller.signal;
      const c = new AbortController();
      controller = c;
      const stop = (): void => c.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // `chorus watch | head -1`: the reader left, so stop quietly instead of dying on EPIPE.
      process.stdout.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EPIPE') stop();
      });
      return c.signal;
    },
  };
}
