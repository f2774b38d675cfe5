import { spawn, type ChildProcess } from 'node:child_process';
import { CHORUS, ROOT } from '../node/proc.ts';

/** What one run of `node bin/chorus.js ...` printed and how it exited. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real `chorus` command to completion (killed after 60 s), without $CHORUS_TOKEN or $CHORUS_DATA unless given. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  const base = { ...process.env };
  delete base.CHORUS_TOKEN;
  delete base.CHORUS_DATA;
  const child = spawn(process.execPath, [CHORUS, ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** Runs `chorus ...` expecting exit 0 and JSON on stdout. */
export async function cliJson<T = unknown>(args: readonly string[], env: Record<string, string> = {}): Promise<T> {
  const r = await runCli([...args, '--json'], env);
  if (r.code !== 0) throw new Error(`chorus ${args.join(' ')} exited with ${r.code}:\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** A running `chorus watch` process and what it printed so far. */
export interface WatchProc {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<number | null>;
}

/** Starts `chorus watch ...args` in the background. */
export function startWatch(args: readonly string[], env: Record<string, string> = {}): WatchProc {
  const child = spawn(process.execPath, [CHORUS, 'watch', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}
