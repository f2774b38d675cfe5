import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodeInfo } from '../src/api/node-api.ts';
import { presetDefaults } from '../src/node/config.ts';
import { pollUntil, sleep, stopChild, trackChild } from './cleanup.ts';
import { HttpClient } from './http-client.ts';

// Real `chorus start` processes for process benchmarks: loopback only, the `local` preset,
// default durability, warnings only on the log, no API rate limit.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHORUS = join(ROOT, 'bin/chorus.js');

/** The durability `chorus start` uses when none is given (recorded in params: it sets commit cost). */
export const DEFAULT_DURABILITY = presetDefaults().durability;

/** One running `chorus start` process. */
export interface ChorusProc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly data: string;
  readonly port: number;
  readonly url: string;
  readonly nodeId: string;
  /** `performance.now()` just before the process was spawned. */
  readonly spawnedAt: number;
  /** `performance.now()` when its node.json appeared: state loaded, HTTP listening. */
  readonly readyAt: number;
  /** Keep-alive HTTP client to this node. */
  readonly http: HttpClient;
  /** Everything the process wrote to stdout and stderr. */
  output(): string;
}

/** Options of `startChorus`. */
export interface StartOptions {
  readonly name: string;
  readonly seeds?: readonly string[];
  /** Sockets in the HTTP client's pool. */
  readonly maxSockets?: number;
}

/** Spawns `chorus start` on `data` and resolves once its node.json names the new process. */
export async function startChorus(data: string, opts: StartOptions): Promise<ChorusProc> {
  const args = [CHORUS, 'start', '--data', data, '--preset', 'local', '--log-level', 'warn', '--name', opts.name];
  for (const s of opts.seeds ?? []) args.push('--seed', s);
  const spawnedAt = performance.now();
  // The API's per-client request budget is a policy against runaway scripts, not a speed: a
  // benchmark that sends thousands of requests a second turns it off (an environment variable,
  // which a build without the setting ignores).
  const env = { ...process.env, CHORUS_API_RATE_LIMIT: '0' };
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const info = join(data, 'node.json');
  const j = await pollUntil(
    `node.json of ${opts.name}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`chorus start (${opts.name}) exited with ${child.exitCode}:\n${out}`);
      if (!existsSync(info)) return undefined;
      const parsed = JSON.parse(readFileSync(info, 'utf8')) as { pid: number; port: number; url: string; nodeId: string };
      return parsed.pid === child.pid ? parsed : undefined;
    },
    5,
    30_000,
  ).catch((e: unknown) => {
    child.kill('SIGKILL');
    throw e;
  });
  return { name: opts.name, child, data, port: j.port, url: j.url, nodeId: j.nodeId, spawnedAt, readyAt: performance.now(), http: new HttpClient(j.url, opts.maxSockets ?? 8), output: () => out };
}

/** Stops a node gracefully (SIGTERM: it leaves the mesh and flushes storage). */
export async function stopChorus(n: ChorusProc): Promise<void> {
  n.http.close();
  const code = await stopChild(n.child, 'SIGTERM');
  if (code !== 0 && code !== null) throw new Error(`chorus ${n.name} exited with ${code} on SIGTERM:\n${n.output().slice(-2000)}`);
}

/** GET /api/v1/node. */
export function nodeInfo(n: ChorusProc): Promise<NodeInfo> {
  return n.http.json<NodeInfo>('GET', '/api/v1/node');
}

/** `host:port` to pass as another node's seed. */
export function seedOf(n: ChorusProc): string {
  return `127.0.0.1:${n.port}`;
}

/** Waits until every node lists all the others as alive members. */
export async function waitForMesh(nodes: readonly ChorusProc[], timeoutMs = 30_000): Promise<void> {
  await pollUntil(
    `a mesh of ${nodes.length} alive members`,
    async () => {
      for (const n of nodes) {
        const { members } = await n.http.json<{ members: { status: string }[] }>('GET', '/api/v1/members');
        if (members.length !== nodes.length || members.some((m) => m.status !== 'alive')) return undefined;
      }
      return true;
    },
    20,
    timeoutMs,
  );
  // The links to every peer are open once each has sent something; a short pause lets the
  // first anti-entropy rounds finish before anything is timed.
  await sleep(200);
}
