import { execFile, spawnSync } from 'node:child_process';
import { startNode, type NodeProc } from './proc.ts';

// Network namespaces joined by one bridge, and real `chorus start` processes inside them.
// Needs Linux, root and iproute2. Each node's HTTP API is reached from inside its namespace by a
// short-lived `node` (a wildcard-bound node names its API http://127.0.0.1:PORT, which only its
// namespace reaches).

/** Why namespace tests cannot run here, or undefined when they can. */
export function netnsSkipReason(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return `network namespaces need root (uid is ${process.getuid?.()})`;
  const probe = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `\`ip netns\` is unavailable (${probe.error.message}): install iproute2`;
  if (probe.status !== 0) return `\`ip netns list\` failed: ${probe.stderr.trim()}`;
  return undefined;
}

/** Runs `ip ...args`; throws with its stderr when it fails. */
export function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr.trim() || r.error?.message}`);
}

/** One host of a Lan: a namespace whose eth0 is plugged into the bridge. */
export interface Host {
  readonly ns: string;
  readonly ip: string;
}

/**
 *   <prefix>-br: bridge br0 ── veth vpI ── <prefix>-<name>: eth0 <ip>/24, lo up
 * Every namespace created is recorded at once, so destroy() removes what exists even after a
 * failure half way through create().
 */
export class Lan {
  readonly hosts: Host[] = [];
  private readonly created: string[] = [];
  private readonly bridge: string;

  constructor(private readonly prefix: string) {
    this.bridge = `${prefix}-br`;
  }

  /** Creates the bridge namespace, then one namespace per host, each with its address. */
  create(hosts: readonly { name: string; ip: string }[]): Host[] {
    ip('netns', 'add', this.bridge);
    this.created.push(this.bridge);
    ip('-n', this.bridge, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', this.bridge, 'link', 'set', 'br0', 'up');
    hosts.forEach((h, i) => {
      const ns = `${this.prefix}-${h.name}`;
      ip('netns', 'add', ns);
      this.created.push(ns);
      ip('-n', this.bridge, 'link', 'add', `vp${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('-n', this.bridge, 'link', 'set', `vp${i}`, 'master', 'br0', 'up');
      ip('-n', ns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      this.hosts.push({ ns, ip: h.ip });
    });
    return this.hosts;
  }

  /** Deletes every namespace this Lan created (their veths go with them); never throws. */
  destroy(): void {
    for (const ns of this.created.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns]);
  }
}

/** Prints `<status>\n<body>` for one request; run by `node -e` inside a namespace. */
const FETCH_SCRIPT = `
const [method, url, body] = process.argv.slice(1);
const init = { method, signal: AbortSignal.timeout(5000) };
if (body !== undefined) Object.assign(init, { body, headers: { 'content-type': 'application/json' } });
fetch(url, init).then(async (r) => process.stdout.write(r.status + '\\n' + (await r.text())), (e) => { process.stderr.write(String(e.cause ?? e)); process.exitCode = 1; });
`;

/**
 * JSON over HTTP from inside namespace `ns`, by a short-lived `node` there (node is the one
 * client every machine that runs these tests has); resolves to status and body.
 */
export function nsHttp(ns: string, url: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any }> /* eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON */ {
  const args = ['netns', 'exec', ns, process.execPath, '-e', FETCH_SCRIPT, method, url, ...(body === undefined ? [] : [JSON.stringify(body)])];
  return new Promise((resolve, reject) => {
    execFile('ip', args, { encoding: 'utf8', timeout: 10_000 }, (err, stdout, stderr) => {
      if (err !== null) return reject(new Error(`${method} ${url} in ${ns} failed: ${stderr.trim() || err.message}`));
      const nl = stdout.indexOf('\n');
      const text = stdout.slice(nl + 1);
      resolve({ status: Number(stdout.slice(0, nl)), body: text.length > 0 ? JSON.parse(text) : undefined });
    });
  });
}

/** A member record as GET /api/v1/members shows it. */
export interface Member {
  readonly nodeId: string;
  readonly name: string;
  readonly generation: number;
  readonly incarnation: number;
  readonly status: string;
  readonly addresses: string[];
  readonly port: number;
}

/** A node's members, read from inside its namespace. */
export async function nsMembers(ns: string, node: NodeProc): Promise<Member[]> {
  return (await nsHttp(ns, `${node.url}/api/v1/members`)).body.members as Member[];
}

/** Fields of an object on a node, or undefined when it does not exist there. */
export async function nsGetObject(ns: string, node: NodeProc, id: string): Promise<Record<string, unknown> | undefined> {
  const r = await nsHttp(ns, `${node.url}/api/v1/objects/${encodeURIComponent(id)}`);
  return r.status === 200 ? (r.body.fields as Record<string, unknown>) : undefined;
}

/**
 * Starts `chorus start` inside namespace `ns` (`ip netns exec` execs, so the child's pid is the
 * node's) and resolves once its node.json names this process.
 */
export function startNsNode(ns: string, data: string, args: readonly string[], env: Record<string, string> = {}): Promise<NodeProc> {
  return startNode(data, args, env, ['ip', 'netns', 'exec', ns]);
}
