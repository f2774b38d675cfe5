import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { ChorusError, ErrorCode } from '../core/errors.ts';
import { isNodeId } from '../core/ids.ts';

/** Everything `chorus start` needs, after flags, environment, file and preset are combined. */
export interface NodeConfig {
  /** Data directory: identity, generation, database, keyring, node.json. */
  readonly data: string;
  /** Human name of this node, shown to peers and in the dashboard. */
  readonly name: string;
  /** Mesh name: frames of another mesh are refused. */
  readonly mesh: string;
  /** Bind address; undefined means loopback without a key, all interfaces with one. */
  readonly host: string | undefined;
  /** HTTP + mesh port; 0 takes a free one. */
  readonly port: number;
  /** Peers to join through, as host:port. */
  readonly seeds: readonly string[];
  /** Keyring file; defaults to <data>/keyring.json. */
  readonly keyFile: string | undefined;
  /** Run without encryption (never on an untrusted network). */
  readonly insecure: boolean;
  /** Timer preset for membership and sync. */
  readonly preset: 'lan' | 'local' | 'wan';
  /** UDP beacons for finding peers on the LAN. */
  readonly discovery: boolean;
  /** UDP port of discovery beacons. */
  readonly discoveryPort: number;
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Fixed node id instead of the one in the data directory. */
  readonly nodeId: string | undefined;
  /** SQLite synchronous mode: full survives power loss, normal only process crashes. */
  readonly durability: 'full' | 'normal';
  /** Largest HTTP request body accepted, in bytes; larger ones get 413. */
  readonly apiBodyLimit: number;
  /** HTTP requests per second each client address may make on average; 0 turns the limit off. */
  readonly apiRateLimit: number;
  /** Requests a client may make at once above the average rate. */
  readonly apiRateBurst: number;
  /** Let loopback clients use the HTTP API and event stream without a token (`api.loopbackOpen`). */
  readonly apiLoopbackOpen: boolean;
}

type Source = 'flag' | 'env' | 'file' | 'preset';
type Kind = 'string' | 'int' | 'bool' | 'list' | 'onoff';

interface Field {
  readonly key: keyof NodeConfig;
  readonly flag: string;
  readonly env: string;
  readonly kind: Kind;
  readonly check?: (v: never) => string | undefined;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'];
const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** The one schema: each setting, its flag, its variable, its type and its rule. */
export const CONFIG_FIELDS: readonly Field[] = [
  { key: 'data', flag: '--data', env: 'CHORUS_DATA', kind: 'string', check: (v: string) => (v.length > 0 ? undefined : 'must not be empty') },
  { key: 'name', flag: '--name', env: 'CHORUS_NAME', kind: 'string', check: (v: string) => (v.length > 0 && v.length <= 128 ? undefined : 'must be 1 to 128 characters') },
  { key: 'mesh', flag: '--mesh', env: 'CHORUS_MESH', kind: 'string', check: (v: string) => (/^[A-Za-z0-9._-]{1,64}$/.test(v) ? undefined : 'must be 1 to 64 of A-Z a-z 0-9 . _ -') },
  { key: 'host', flag: '--host', env: 'CHORUS_HOST', kind: 'string', check: (v: string) => (v.length > 0 ? undefined : 'must not be empty') },
  { key: 'port', flag: '--port', env: 'CHORUS_PORT', kind: 'int', check: (v: number) => (v >= 0 && v <= 65535 ? undefined : 'must be 0 to 65535') },
  { key: 'seeds', flag: '--seed', env: 'CHORUS_SEEDS', kind: 'list', check: (v: string[]) => v.map((s) => (HOST_PORT.test(s) && Number(HOST_PORT.exec(s)?.[2]) <= 65535 ? undefined : `"${s}" is not host:port`)).find((e) => e !== undefined) },
  { key: 'keyFile', flag: '--key-file', env: 'CHORUS_KEY_FILE', kind: 'string' },
  { key: 'insecure', flag: '--insecure', env: 'CHORUS_INSECURE', kind: 'bool' },
  { key: 'preset', flag: '--preset', env: 'CHORUS_PRESET', kind: 'string', check: (v: string) => (['lan', 'local', 'wan'].includes(v) ? undefined : 'must be lan, local or wan') },
  { key: 'discovery', flag: '--discovery', env: 'CHORUS_DISCOVERY', kind: 'onoff' },
  { key: 'discoveryPort', flag: '--discovery-port', env: 'CHORUS_DISCOVERY_PORT', kind: 'int', check: (v: number) => (v >= 1 && v <= 65535 ? undefined : 'must be 1 to 65535') },
  { key: 'logLevel', flag: '--log-level', env: 'CHORUS_LOG_LEVEL', kind: 'string', check: (v: string) => (LEVELS.includes(v) ? undefined : `must be one of ${LEVELS.join(', ')}`) },
  { key: 'nodeId', flag: '--node-id', env: 'CHORUS_NODE_ID', kind: 'string', check: (v: string) => (isNodeId(v) ? undefined : 'must be 32 lowercase hex characters') },
  { key: 'durability', flag: '--durability', env: 'CHORUS_DURABILITY', kind: 'string', check: (v: string) => (v === 'full' || v === 'normal' ? undefined : 'must be full or normal') },
  { key: 'apiBodyLimit', flag: '--api-body-limit', env: 'CHORUS_API_BODY_LIMIT', kind: 'int', check: (v: number) => (v >= 1024 && v <= 64 * 1024 * 1024 ? undefined : 'must be 1024 to 67108864 bytes') },
  { key: 'apiRateLimit', flag: '--api-rate-limit', env: 'CHORUS_API_RATE_LIMIT', kind: 'int', check: (v: number) => (v >= 0 && v <= 1_000_000 ? undefined : 'must be 0 (off) to 1000000 requests per second') },
  { key: 'apiRateBurst', flag: '--api-rate-burst', env: 'CHORUS_API_RATE_BURST', kind: 'int', check: (v: number) => (v >= 1 && v <= 1_000_000 ? undefined : 'must be 1 to 1000000 requests') },
  { key: 'apiLoopbackOpen', flag: '--api-loopback-open', env: 'CHORUS_API_LOOPBACK_OPEN', kind: 'onoff' },
];

/** Defaults, each with its reason. */
export function presetDefaults(): NodeConfig {
  return {
    data: './chorus-data', // beside the working directory, as most home-automation tools do
    name: hostname(), // the machine's name is what a person recognises in a member list
    mesh: 'home', // one mesh per household is the common case
    host: undefined, // decided by key presence: loopback only without a key
    port: 0, // two nodes on one machine need no setting
    seeds: [], // discovery finds LAN peers; seeds are for routed networks
    keyFile: undefined, // <data>/keyring.json
    insecure: false, // secure by default
    preset: 'lan', // the network of a home
    discovery: true, // plug-and-play on a LAN
    discoveryPort: 7947, // one well-known UDP port beside memberlist's 7946
    logLevel: 'info', // start-up, membership and errors, nothing per message
    nodeId: undefined, // the data directory's identity
    durability: 'full', // a power cut must not take back a write that was acknowledged or pushed
    apiBodyLimit: 1024 * 1024, // 1 MiB: far above any object (values are capped well below), small enough to refuse floods early
    apiRateLimit: 200, // per client address: a busy integration writes tens per second; a runaway script is slowed, not the mesh
    apiRateBurst: 400, // two seconds' worth, so a dashboard loading everything at once is not refused
    apiLoopbackOpen: true, // a friendly first run: this machine's scripts and CLI need no token, other clients always do (turn off behind a local reverse proxy)
  };
}

function bad(source: Source, name: string, problem: string): ChorusError {
  const where = source === 'flag' ? `flag ${name}` : source === 'env' ? `environment variable ${name}` : source === 'file' ? `config file key "${name}"` : name;
  return new ChorusError(ErrorCode.InvalidConfig, `${where} ${problem}`);
}

function convert(field: Field, raw: unknown, source: Source, name: string): unknown {
  const fromText = typeof raw === 'string' && source !== 'file';
  switch (field.kind) {
    case 'string':
      if (typeof raw !== 'string') throw bad(source, name, `must be a string, got ${typeof raw}`);
      return raw;
    case 'int': {
      const n = fromText ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isInteger(n) || (fromText && !/^\d+$/.test(raw as string))) throw bad(source, name, `must be a whole number, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === 'yes') return true;
      if (raw === 'false' || raw === '0' || raw === 'no') return false;
      throw bad(source, name, `must be true or false, got ${JSON.stringify(raw)}`);
    case 'onoff':
      if (raw === true || raw === 'on' || raw === 'true') return true;
      if (raw === false || raw === 'off' || raw === 'false') return false;
      throw bad(source, name, `must be on or off, got ${JSON.stringify(raw)}`);
    case 'list':
      if (typeof raw === 'string') return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw;
      throw bad(source, name, 'must be a list of strings');
  }
}

function layer(source: Source, values: Readonly<Record<string, unknown>>, nameOf: (f: Field) => string): Partial<Record<keyof NodeConfig, unknown>> {
  const out: Partial<Record<keyof NodeConfig, unknown>> = {};
  for (const f of CONFIG_FIELDS) {
    const name = nameOf(f);
    if (!Object.hasOwn(values, name) || values[name] === undefined) continue;
    const v = convert(f, values[name], source, name);
    const problem = f.check?.(v as never);
    if (problem !== undefined) throw bad(source, name, problem);
    out[f.key] = v;
  }
  return out;
}

/** Reads and checks a YAML config file; unknown keys are refused so typos do not pass silently. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ChorusError(ErrorCode.InvalidConfig, `config file ${path} cannot be read: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new ChorusError(ErrorCode.InvalidConfig, `config file ${path} is not valid YAML: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ChorusError(ErrorCode.InvalidConfig, `config file ${path} must hold a mapping of settings`);
  const known = new Set<string>(CONFIG_FIELDS.map((f) => f.key));
  for (const k of Object.keys(doc)) if (!known.has(k)) throw new ChorusError(ErrorCode.InvalidConfig, `config file ${path}: unknown key "${k}" (known: ${[...known].join(', ')})`);
  return doc as Record<string, unknown>;
}

/**
 * Combines the sources: flags over environment over file over preset defaults. `flags` are
 * keyed by flag name (e.g. '--port'), `env` by variable name, `file` by config key.
 */
export function resolveNodeConfig(sources: { flags?: Readonly<Record<string, unknown>>; env?: Readonly<Record<string, string | undefined>>; file?: Readonly<Record<string, unknown>> }): NodeConfig {
  const merged = {
    ...presetDefaults(),
    ...layer('file', sources.file ?? {}, (f) => f.key),
    ...layer('env', sources.env ?? {}, (f) => f.env),
    ...layer('flag', sources.flags ?? {}, (f) => f.flag),
  };
  return merged as NodeConfig;
}
