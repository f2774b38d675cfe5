import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository root and the `chorus` command in it. */
export const ROOT = new URL('../../', import.meta.url).pathname;
export const CHORUS = join(ROOT, 'bin/chorus.js');

/** A fresh temporary directory, removed by `cleanup`. */
export function tempDir(prefix = 'chorus-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** One `chorus start` process and what it wrote to node.json. */
export interface NodeProc {
  readonly child: ChildProcess;
  readonly data: string;
  readonly port: number;
  readonly url: string;
  readonly nodeId: string;
  readonly generation: number;
  output(): string;
  exited: Promise<number | null>;
}

/**
 * Starts `chorus start` and resolves once its node.json names this process. `wrapper` runs it
 * inside another command that execs it (e.g. `ip netns exec NS`), so the child's pid is the node's.
 */
export async function startNode(data: string, args: readonly string[] = [], env: Record<string, string> = {}, wrapper: readonly string[] = []): Promise<NodeProc> {
  const argv = [CHORUS, 'start', '--data', data, '--preset', 'local', '--log-level', 'warn', ...args];
  const [command, ...prefix] = wrapper.length > 0 ? [...wrapper, process.execPath] : [process.execPath];
  const where = wrapper.length > 0 ? ` (${wrapper.join(' ')})` : '';
  const child = spawn(command as string, [...prefix, ...argv], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const info = join(data, 'node.json');
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (existsSync(info)) {
      const j = JSON.parse(readFileSync(info, 'utf8')) as { pid: number; port: number; url: string; nodeId: string; generation: number };
      if (j.pid === child.pid) return { child, data, port: j.port, url: j.url, nodeId: j.nodeId, generation: j.generation, output: () => out, exited };
    }
    if (child.exitCode !== null) throw new Error(`chorus start${where} exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`chorus start${where} did not come up within 30 s:\n${out}`);
    }
    await sleep(50);
  }
}

/** Runs `chorus start` expecting it to fail; resolves to its exit code and output. */
export async function startFails(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [CHORUS, 'start', '--preset', 'local', '--log-level', 'warn', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(50);
  }
}

/** JSON over HTTP; resolves to status and body. */
export async function http(url: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any }> /* eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON */ {
  const res = await fetch(url, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  const text = await res.text();
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) : undefined };
}

/** Fields of an object on a node, or undefined when it does not exist there. */
export async function getObject(node: NodeProc, id: string): Promise<Record<string, unknown> | undefined> {
  const r = await http(`${node.url}/api/v1/objects/${encodeURIComponent(id)}`);
  return r.status === 200 ? (r.body.fields as Record<string, unknown>) : undefined;
}

/** Stops a node gracefully (SIGTERM) and resolves to its exit code. */
export async function stopNode(n: NodeProc): Promise<number | null> {
  if (n.child.exitCode !== null || n.child.signalCode !== null) return n.child.exitCode;
  n.child.kill('SIGTERM');
  const timer = setTimeout(() => n.child.kill('SIGKILL'), 10_000);
  const code = await n.exited;
  clearTimeout(timer);
  return code;
}

/** Kills a node at once, as a power cut would. */
export async function killNode(n: NodeProc): Promise<void> {
  if (n.child.exitCode !== null || n.child.signalCode !== null) return;
  n.child.kill('SIGKILL');
  await n.exited;
}

/** Removes directories, ignoring what is already gone. */
export function cleanup(...dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
