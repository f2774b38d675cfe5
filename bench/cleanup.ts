import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Everything a process benchmark starts, so it is stopped and removed at the end, on failure,
// and (best effort, synchronously) if this process exits or is interrupted first.

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
let hooked = false;

function killAllNow(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAllNow();
      process.exit(130);
    });
  }
}

/** Tracks a child process: killed with SIGKILL if this process exits while it still runs. */
export function trackChild(child: ChildProcess): void {
  hook();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** A fresh temporary directory, removed by `removeDir` or when this process exits. */
export function tempDir(prefix: string): string {
  hook();
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(d);
  return d;
}

/** Removes a directory made by `tempDir`. */
export function removeDir(d: string): void {
  rmSync(d, { recursive: true, force: true });
  dirs.delete(d);
}

/** Stops a child: `signal`, then SIGKILL after `graceMs`; resolves to its exit code (null when signalled). */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/**
 * A stack of undo steps for one benchmark run: `defer` in start order, `run` in reverse, every
 * step attempted even when an earlier one fails.
 */
export class Teardown {
  private readonly steps: (() => Promise<unknown> | unknown)[] = [];

  /** Registers a step to run at teardown. */
  defer(step: () => Promise<unknown> | unknown): void {
    this.steps.push(step);
  }

  /** Runs every step, last registered first; reports failures on `log` and keeps going. */
  async run(log: (line: string) => void): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop() as () => Promise<unknown> | unknown;
      try {
        await step();
      } catch (e) {
        log(`teardown step failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}

/** Runs `body` with a fresh Teardown and always runs the teardown afterwards. */
export async function withTeardown<T>(log: (line: string) => void, body: (t: Teardown) => Promise<T>): Promise<T> {
  const t = new Teardown();
  try {
    return await body(t);
  } finally {
    await t.run(log);
  }
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a value other than undefined; throws after `timeoutMs`. */
export async function pollUntil<T>(what: string, check: () => Promise<T | undefined>, everyMs: number, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    await sleep(everyMs);
  }
}
