import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscoveryCounters } from '../../src/transport/discovery.ts';

// Real processes in network namespaces joined by a bridge: discovery by real directed
// broadcast and real multicast, no explicit targets. Needs root and iproute2 (`ip netns`).
//
//   chorus-<pid>-br: bridge br0 ── veth ── chorus-<pid>-a  10.77.K.1/24   key 1
//                                  ├ veth ── chorus-<pid>-b  10.77.K.2/24   key 1
//                                  ├ veth ── chorus-<pid>-c  10.77.K.3/24   key 1
//                                  └ veth ── chorus-<pid>-d  10.77.K.4/24   key 2 (an outsider)
//
// Three groups of runners share the namespaces on distinct UDP ports: broadcast and multicast
// together (default port, with the outsider), broadcast only, multicast only.

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const RUNNER = 'test/discovery/fixtures/discover-runner.ts';
const MESH = 'home';
const DISCOVERY_BUDGET_MS = 10_000;

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return `network namespaces need root (uid is ${process.getuid?.()})`;
  const probe = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `\`ip netns\` is unavailable (${probe.error.message}): install iproute2`;
  if (probe.status !== 0) return `\`ip netns list\` failed: ${probe.stderr.trim()}`;
  return undefined;
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr.trim() || r.error?.message}`);
}

interface Runner {
  readonly name: string;
  readonly ns: string;
  readonly nodeId: string;
  readonly ip: string;
  readonly listenPort: number;
  readonly proc: ChildProcess;
  readonly peers: Map<string, string>;
  readyAt: number | undefined;
  counters: DiscoveryCounters | undefined;
  stderr: string;
}

const reason = skipReason();
const subnet = randomInt(1, 255);
const prefix = `chorus-${process.pid}`;
const bridgeNs = `${prefix}-br`;
const hosts = [
  { ns: `${prefix}-a`, ip: `10.77.${subnet}.1` },
  { ns: `${prefix}-b`, ip: `10.77.${subnet}.2` },
  { ns: `${prefix}-c`, ip: `10.77.${subnet}.3` },
  { ns: `${prefix}-d`, ip: `10.77.${subnet}.4` },
] as const;
const createdNs: string[] = [];
const runners: Runner[] = [];

function createNetwork(): void {
  ip('netns', 'add', bridgeNs);
  createdNs.push(bridgeNs);
  ip('-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', bridgeNs, 'link', 'set', 'br0', 'up');
  hosts.forEach((h, i) => {
    ip('netns', 'add', h.ns);
    createdNs.push(h.ns);
    ip('-n', bridgeNs, 'link', 'add', `vp${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.ns);
    ip('-n', bridgeNs, 'link', 'set', `vp${i}`, 'master', 'br0', 'up');
    ip('-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0');
    ip('-n', h.ns, 'link', 'set', 'eth0', 'up');
    ip('-n', h.ns, 'link', 'set', 'lo', 'up');
  });
}

function startRunner(name: string, host: (typeof hosts)[number], listenPort: number, env: Record<string, string>): Runner {
  const nodeId = randomBytes(16).toString('hex');
  const proc = spawn('ip', ['netns', 'exec', host.ns, process.execPath, '--import', 'tsx', RUNNER], {
    cwd: repoRoot,
    env: { ...process.env, CHORUS_MESH: MESH, CHORUS_NODE_ID: nodeId, CHORUS_LISTEN_PORT: String(listenPort), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r: Runner = { name, ns: host.ns, nodeId, ip: host.ip, listenPort, proc, peers: new Map(), readyAt: undefined, counters: undefined, stderr: '' };
  let buffered = '';
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const msg = JSON.parse(line) as { type: string; nodeId?: string; address?: string; counters?: DiscoveryCounters };
      if (msg.type === 'ready') r.readyAt = performance.now();
      else if (msg.type === 'peer') r.peers.set(msg.nodeId ?? '', msg.address ?? '');
      else if (msg.type === 'counters') r.counters = msg.counters;
    }
  });
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => (r.stderr += chunk));
  runners.push(r);
  return r;
}

async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    const dead = runners.find((r) => r.proc.exitCode !== null);
    if (dead !== undefined) throw new Error(`runner ${dead.name} exited with ${dead.proc.exitCode}: ${dead.stderr}`);
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr: ${runners.map((r) => `${r.name}: ${r.stderr}`).join(' | ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until every runner of `group` knows every other one at its namespace address. */
async function expectMutualDiscovery(group: readonly Runner[]): Promise<void> {
  const knowsAll = (r: Runner): boolean => group.every((o) => o === r || r.peers.get(o.nodeId) === `${o.ip}:${o.listenPort}`);
  await waitFor(`${group.map((r) => r.name).join(', ')} ready`, () => group.every((r) => r.readyAt !== undefined), 60_000);
  const lastReady = Math.max(...group.map((r) => r.readyAt ?? 0));
  await waitFor(`${group.map((r) => r.name).join(', ')} to find each other`, () => group.every(knowsAll), 30_000);
  expect(performance.now() - lastReady).toBeLessThan(DISCOVERY_BUDGET_MS);
  await waitFor('counters', () => group.every((r) => r.counters !== undefined && r.counters.sent > 0), 5000);
  if (process.env['CHORUS_NETNS_DEBUG'] === '1') for (const r of group) console.log(r.name, JSON.stringify(r.counters));
  for (const r of group) {
    expect(r.counters?.sendErrors).toBe(0);
    const expected = Object.fromEntries(group.filter((o) => o !== r).map((o) => [o.nodeId, `${o.ip}:${o.listenPort}`]));
    expect(Object.fromEntries(r.peers)).toEqual(expected);
  }
}

async function stopRunners(): Promise<void> {
  await Promise.all(
    runners.map(
      (r) =>
        new Promise<void>((resolve) => {
          if (r.proc.exitCode !== null || r.proc.signalCode !== null) return resolve();
          const force = setTimeout(() => r.proc.kill('SIGKILL'), 3000);
          r.proc.once('exit', () => {
            clearTimeout(force);
            resolve();
          });
          r.proc.kill('SIGTERM');
        }),
    ),
  );
}

if (reason !== undefined) {
  console.log(`netns discovery tests skipped: ${reason}`);
  describe('Discovery across network namespaces', () => {
    it.skip(`skipped: ${reason}`, () => undefined);
  });
} else {
  describe('Discovery across network namespaces', () => {
    const key = randomBytes(32).toString('base64');
    const outsiderKey = randomBytes(32).toString('base64');
    const groups: Record<'both' | 'broadcast' | 'multicast', Runner[]> = { both: [], broadcast: [], multicast: [] };
    let outsider: Runner;

    beforeAll(() => {
      createNetwork();
      const [a, b, c, d] = hosts;
      for (const [i, h] of [a, b, c].entries()) {
        groups.both.push(startRunner(`both-${i}`, h, 8100 + i, { CHORUS_KEY: key }));
        groups.broadcast.push(startRunner(`broadcast-${i}`, h, 8200 + i, { CHORUS_KEY: key, CHORUS_DISCOVERY_PORT: '17947', CHORUS_MULTICAST: '0' }));
        groups.multicast.push(startRunner(`multicast-${i}`, h, 8300 + i, { CHORUS_KEY: key, CHORUS_DISCOVERY_PORT: '27947', CHORUS_BROADCAST: '0' }));
      }
      outsider = startRunner('outsider', d, 8199, { CHORUS_KEY: outsiderKey });
    });

    afterAll(async () => {
      await stopRunners();
      for (const ns of createdNs.reverse()) spawnSync('ip', ['netns', 'del', ns]);
    });

    it('three nodes find each other by broadcast and multicast, each at its namespace address', async () => {
      await expectMutualDiscovery(groups.both);
    });

    it('broadcast alone suffices', async () => {
      await expectMutualDiscovery(groups.broadcast);
    });

    it('multicast alone suffices', async () => {
      await expectMutualDiscovery(groups.multicast);
    });

    it('a node with another key is heard, refused and never reported, and learns nothing', async () => {
      await expectMutualDiscovery(groups.both);
      const refused = (r: Runner): number => r.counters?.rejected['unknown-key'] ?? 0;
      // Its beacons reach every node and are refused there; theirs reach it and are refused too.
      await waitFor('the outsider refused everywhere', () => [...groups.both, outsider].every((r) => refused(r) >= 1), 30_000);
      for (const r of groups.both) expect(r.peers.has(outsider.nodeId)).toBe(false);
      expect(outsider.peers.size).toBe(0);
      expect(outsider.counters?.accepted).toBe(0);
    });
  });
}
