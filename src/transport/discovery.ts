import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { ChorusError, ErrorCode } from '../core/errors.ts';
import { isNodeId, type NodeId } from '../core/ids.ts';
import { encodeBeacon, encodePaddedQuery, MAX_BEACON_BYTES, parseBeacon, type Beacon, type BeaconCodec, type BeaconKind } from './beacon.ts';
import { SourceRateLimiter, type RateLimits } from './rate-limit.ts';

/** A node heard on the LAN: its id and where its mesh port is reached. */
export interface DiscoveredPeer {
  readonly nodeId: NodeId;
  /** `ip:port`: the datagram's source IP and the port the beacon declared (never an address from the payload). */
  readonly address: string;
  readonly generation?: number;
}

/** A pino-compatible logger, reduced to what discovery uses. */
export interface DiscoveryLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Options of a Discovery; every default is named with its reason. */
export interface DiscoveryOptions {
  readonly mesh: string;
  readonly nodeId: NodeId;
  /** This node's mesh (HTTP) port, declared in its beacons. */
  readonly listenPort: number;
  /** Seals and opens beacons (FrameCodec, or any `{ seal, open }`). */
  readonly codec: BeaconCodec;
  /** UDP port of the beacons (default 7947); 0 lets the OS pick (tests, with `targets`). */
  readonly port?: number;
  /** IPv4 multicast group (default 239.255.77.77: organization-local scope, never routed off site). */
  readonly multicastGroup?: string;
  /** Send beacons to each interface's directed broadcast address (default true). */
  readonly broadcast?: boolean;
  /** Join the multicast group and send beacons to it (default true). */
  readonly multicast?: boolean;
  /** Time between periodic announcements (default 5000, jittered ±10% so nodes do not fall in step). */
  readonly intervalMs?: number;
  /** Delays of the fast-start queries after the one sent at start (default [1000, 2500]). */
  readonly fastStartMs?: readonly number[];
  /** Address the socket binds (default 0.0.0.0: broadcast and multicast arrive only there). */
  readonly bindAddress?: string;
  /** IPv4 broadcast addresses to send to (default: computed from the interfaces' netmasks at every beacon). */
  readonly interfaces?: () => readonly string[];
  /** Explicit unicast destinations, `ip` or `ip:port` (port defaults to `port`); loopback tests use these. */
  readonly targets?: readonly string[];
  /** This node's generation, included in its beacons. */
  readonly generation?: number;
  /** Called for every accepted beacon of another node (repeats included: the caller deduplicates). */
  readonly onPeer: (peer: DiscoveredPeer) => void;
  /** Token buckets per source IP and global (default 5/s per source, 100/s in all). */
  readonly rateLimit?: RateLimits;
  readonly logger?: DiscoveryLogger;
}

/** What a Discovery counted since construction. */
export interface DiscoveryCounters {
  /** Datagrams sent (beacons and replies). */
  sent: number;
  /** Sends that failed (no route, interface gone...). */
  sendErrors: number;
  /** Datagrams received, before any check. */
  received: number;
  /** Valid beacons of other nodes in our mesh. */
  accepted: number;
  /** Our own beacons heard back (multicast loopback, broadcast), ignored. */
  self: number;
  /** Datagrams refused, by reason: oversize, decode, invalid, mesh (payload), codec-error (open threw), or the codec's own reason (FrameCodec: wrong-mesh, unknown-key, replay, auth-failed...). */
  rejected: Record<string, number>;
  /** Datagrams dropped by the rate limits before being opened (per source and global together). */
  rateLimited: number;
  /** Of those, dropped by the global bucket. */
  rateLimitedGlobal: number;
  /** Unicast announcements sent in answer to queries. */
  replies: number;
  /** Answers not sent because they would have been larger than the query (no amplification). */
  repliesTooLarge: number;
}

const DEFAULTS = {
  port: 7947,
  multicastGroup: '239.255.77.77',
  intervalMs: 5000,
  fastStartMs: [1000, 2500],
  bindAddress: '0.0.0.0',
  rateLimit: { perSourcePerS: 5, globalPerS: 100 }, // a node beacons every few seconds: 5/s per source is generous, 100/s covers a large LAN
} as const;

// Bounds the rejection reasons kept, since the codec names its own.
const MAX_REASONS = 32;
const REASON_RE = /^[a-z0-9-]{1,32}$/i;

type Phase =
  | { readonly name: 'stopped' }
  | { readonly name: 'starting'; readonly done: Promise<void> }
  | { readonly name: 'running'; readonly socket: Socket; readonly timers: Set<NodeJS.Timeout>; readonly joined: Set<string> };

/**
 * LAN discovery over UDP: queries and announcements, sealed by the mesh codec, by directed
 * broadcast, multicast and explicit targets. Invariants:
 * 1. A datagram passes the rate limits before it is opened, and the codec before it is decoded.
 * 2. A peer's address is the datagram's source IP with its declared port.
 * 3. An answer is sent only when its sealed size is at most the query's datagram size.
 * 4. Nothing received throws: every refusal is a counter.
 * 5. Only the 'running' phase holds a socket and timers; stop() releases both.
 */
export class Discovery {
  readonly #o: Required<Omit<DiscoveryOptions, 'logger' | 'generation' | 'interfaces'>> & Pick<DiscoveryOptions, 'logger' | 'generation' | 'interfaces'>;
  readonly #targets: readonly { host: string; port: number }[];
  readonly #limiter: SourceRateLimiter;
  readonly #c: DiscoveryCounters = { sent: 0, sendErrors: 0, received: 0, accepted: 0, self: 0, rejected: {}, rateLimited: 0, rateLimitedGlobal: 0, replies: 0, repliesTooLarge: 0 };
  #phase: Phase = { name: 'stopped' };
  // Serializes beacon rounds: the multicast interface is a socket option set before each send.
  #queue: Promise<void> = Promise.resolve();

  constructor(options: DiscoveryOptions) {
    this.#o = { ...DEFAULTS, broadcast: true, multicast: true, targets: [], ...stripUndefined(options) };
    this.#targets = validate(this.#o);
    this.#limiter = new SourceRateLimiter(this.#o.rateLimit, performance.now());
  }

  /** Binds the UDP socket (reuseAddr), enables broadcast, joins the group, and sends a query at once. */
  start(): Promise<void> {
    if (this.#phase.name === 'running') return Promise.resolve();
    if (this.#phase.name === 'starting') return this.#phase.done;
    const done = this.#bind().then((socket) => {
      const timers = new Set<NodeJS.Timeout>();
      this.#phase = { name: 'running', socket, timers, joined: new Set() };
      socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
      try {
        this.#configure(socket);
      } catch (err) {
        socket.close();
        throw new ChorusError(ErrorCode.DiscoveryBind, `discovery cannot configure its socket: ${err instanceof Error ? err.message : String(err)}`);
      }
      this.query();
      for (const ms of this.#o.fastStartMs) this.#after(ms, () => this.query());
      this.#schedulePeriodic();
    });
    this.#phase = { name: 'starting', done };
    done.catch(() => {
      this.#phase = { name: 'stopped' };
    });
    return done;
  }

  /** Closes the socket and clears the timers; safe to call in any phase. */
  async stop(): Promise<void> {
    if (this.#phase.name === 'starting') await this.#phase.done.catch(() => undefined);
    const phase = this.#phase;
    if (phase.name !== 'running') return;
    this.#phase = { name: 'stopped' };
    for (const t of phase.timers) clearTimeout(t);
    // The round in flight ends at its next destination; a send on a closed socket would never
    // call back, so the socket closes only after it.
    await this.#queue;
    await new Promise<void>((resolve) => phase.socket.close(() => resolve()));
  }

  /** Sends one announcement now (after an address change, say); does nothing unless running. */
  announce(): void {
    this.#round('announce');
  }

  /** Sends one query now: every node that hears it answers; does nothing unless running. */
  query(): void {
    this.#round('query');
  }

  /** The bound socket's address and port (the real port when `port` was 0), or undefined unless running. */
  address(): { address: string; port: number } | undefined {
    if (this.#phase.name !== 'running') return undefined;
    const a = this.#phase.socket.address();
    return { address: a.address, port: a.port };
  }

  /** A copy of the counters. */
  counters(): DiscoveryCounters {
    return { ...this.#c, rejected: { ...this.#c.rejected } };
  }

  #bind(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = createSocket({ type: 'udp4', reuseAddr: true });
      const onError = (err: Error): void => {
        socket.close();
        reject(new ChorusError(ErrorCode.DiscoveryBind, `discovery cannot bind udp ${this.#o.bindAddress}:${this.#o.port}: ${err.message}`));
      };
      socket.once('error', onError);
      socket.bind({ port: this.#o.port, address: this.#o.bindAddress }, () => {
        socket.off('error', onError);
        // Errors after binding (ICMP-induced send failures and the like) are logged, never fatal.
        socket.on('error', (err) => this.#o.logger?.warn({ err }, 'discovery socket error'));
        resolve(socket);
      });
    });
  }

  #configure(socket: Socket): void {
    if (this.#o.broadcast) socket.setBroadcast(true);
    if (!this.#o.multicast) return;
    socket.setMulticastTTL(1); // beacons stay on the local link
    socket.setMulticastLoopback(true); // other nodes on this host hear them too
    this.#refreshMemberships();
  }

  // Joins the group on every IPv4 interface that appeared and leaves those that went, so an
  // address change (see AddressWatch) is followed by the next beacon.
  #refreshMemberships(): void {
    const phase = this.#phase;
    if (phase.name !== 'running' || !this.#o.multicast) return;
    const now = new Set(localIPv4Addresses(readInterfaces()));
    for (const addr of phase.joined) {
      if (now.has(addr)) continue;
      phase.joined.delete(addr);
      try {
        phase.socket.dropMembership(this.#o.multicastGroup, addr);
      } catch {
        // The interface is gone, and its membership with it.
      }
    }
    for (const addr of now) {
      if (phase.joined.has(addr)) continue;
      try {
        phase.socket.addMembership(this.#o.multicastGroup, addr);
        phase.joined.add(addr);
      } catch (err) {
        // EADDRINUSE: the interface is a member already (its address changed, the membership stayed).
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') phase.joined.add(addr);
        else this.#o.logger?.debug({ err, addr }, 'discovery cannot join the multicast group on this interface');
      }
    }
  }

  #after(ms: number, f: () => void): void {
    if (this.#phase.name !== 'running') return;
    const timers = this.#phase.timers;
    const t = setTimeout(() => {
      timers.delete(t);
      f();
    }, ms);
    t.unref();
    timers.add(t);
  }

  #schedulePeriodic(): void {
    const jitter = 0.9 + Math.random() * 0.2;
    this.#after(Math.round(this.#o.intervalMs * jitter), () => {
      this.announce();
      this.#schedulePeriodic();
    });
  }

  #beacon(kind: BeaconKind): Uint8Array {
    const fields = { mesh: this.#o.mesh, nodeId: this.#o.nodeId, port: this.#o.listenPort, ...(this.#o.generation === undefined ? {} : { generation: this.#o.generation }) };
    return kind === 'query' ? encodePaddedQuery(fields) : encodeBeacon({ kind, ...fields });
  }

  #round(kind: BeaconKind): void {
    if (this.#phase.name !== 'running') return;
    this.#refreshMemberships();
    this.#queue = this.#queue.then(() => this.#sendRound(kind)).catch((err: unknown) => this.#o.logger?.warn({ err }, 'discovery beacon round failed'));
  }

  async #sendRound(kind: BeaconKind): Promise<void> {
    const payload = this.#beacon(kind);
    // Sealed per destination: a node that hears one round twice (broadcast and multicast)
    // sees two fresh frames, not a replay.
    const to = async (host: string, port: number, multicastIf?: string): Promise<void> => {
      const phase = this.#phase;
      if (phase.name !== 'running') return;
      try {
        if (multicastIf !== undefined) phase.socket.setMulticastInterface(multicastIf);
      } catch (err) {
        this.#o.logger?.debug({ err, multicastIf }, 'discovery cannot select the multicast interface');
        return;
      }
      await this.#send(phase.socket, this.#o.codec.seal(payload), host, port);
    };
    if (this.#o.broadcast) for (const b of this.#broadcastAddresses()) await to(b, this.#o.port);
    if (this.#o.multicast) {
      const phase = this.#phase;
      const ifaces = phase.name === 'running' ? [...phase.joined] : [];
      if (ifaces.length === 0) await to(this.#o.multicastGroup, this.#o.port);
      for (const addr of ifaces) await to(this.#o.multicastGroup, this.#o.port, addr);
    }
    for (const t of this.#targets) await to(t.host, t.port);
  }

  #broadcastAddresses(): readonly string[] {
    try {
      return this.#o.interfaces !== undefined ? this.#o.interfaces() : broadcastAddresses(readInterfaces());
    } catch (err) {
      this.#o.logger?.warn({ err }, 'discovery cannot list broadcast addresses');
      return [];
    }
  }

  #send(socket: Socket, bytes: Uint8Array, host: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (err: Error | null): void => {
        if (err === null) this.#c.sent++;
        else {
          this.#c.sendErrors++;
          this.#o.logger?.debug({ err, host, port }, 'discovery send failed');
        }
        resolve(err === null);
      };
      try {
        socket.send(bytes, port, host, done);
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  #onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    this.#c.received++;
    const verdict = this.#limiter.allow(rinfo.address, performance.now());
    if (verdict !== 'ok') {
      this.#c.rateLimited++;
      if (verdict === 'global') this.#c.rateLimitedGlobal++;
      return;
    }
    if (msg.length > MAX_BEACON_BYTES) return this.#reject('oversize', rinfo);
    let opened: ReturnType<BeaconCodec['open']>;
    try {
      opened = this.#o.codec.open(msg);
    } catch {
      return this.#reject('codec-error', rinfo);
    }
    if (!opened.ok) return this.#reject(REASON_RE.test(opened.reason) ? opened.reason : 'codec', rinfo);
    const parsed = parseBeacon(opened.payload, this.#o.mesh);
    if (!parsed.ok) return this.#reject(parsed.reason, rinfo);
    const beacon = parsed.beacon;
    if (beacon.nodeId === this.#o.nodeId) {
      this.#c.self++;
      return;
    }
    this.#c.accepted++;
    this.#report(beacon, rinfo);
    if (beacon.kind === 'query') this.#reply(rinfo, msg.length);
  }

  #report(beacon: Beacon, rinfo: RemoteInfo): void {
    const peer: DiscoveredPeer = { nodeId: beacon.nodeId, address: `${rinfo.address}:${beacon.port}`, ...(beacon.generation === undefined ? {} : { generation: beacon.generation }) };
    try {
      this.#o.onPeer(peer);
    } catch (err) {
      this.#o.logger?.warn({ err, peer }, 'discovery onPeer callback threw');
    }
  }

  #reply(rinfo: RemoteInfo, querySize: number): void {
    const phase = this.#phase;
    if (phase.name !== 'running') return;
    let sealed: Uint8Array;
    try {
      sealed = this.#o.codec.seal(this.#beacon('announce'));
    } catch (err) {
      this.#o.logger?.warn({ err }, 'discovery cannot seal a reply');
      return;
    }
    if (sealed.length > querySize) {
      this.#c.repliesTooLarge++;
      return;
    }
    void this.#send(phase.socket, sealed, rinfo.address, rinfo.port).then((ok) => {
      if (ok) this.#c.replies++;
    });
  }

  #reject(reason: string, rinfo: RemoteInfo): void {
    const r = this.#c.rejected;
    const key = reason in r || Object.keys(r).length < MAX_REASONS ? reason : 'other';
    const n = (r[key] = (r[key] ?? 0) + 1);
    // Logged at the 1st, 2nd, 4th, 8th... refusal of each reason, so a flood cannot flood the log.
    if ((n & (n - 1)) === 0) this.#o.logger?.debug({ reason: key, count: n, from: `${rinfo.address}:${rinfo.port}` }, 'discovery datagram refused');
  }
}

/** Directed broadcast addresses of the non-internal IPv4 interfaces (none for /31 and /32). */
export function broadcastAddresses(ifaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string[] {
  const out = new Set<string>();
  for (const info of Object.values(ifaces).flat()) {
    if (info === undefined || !isIPv4Info(info) || info.internal) continue;
    const addr = ipv4ToInt(info.address);
    const mask = ipv4ToInt(info.netmask);
    if (addr === undefined || mask === undefined || mask >>> 0 >= 0xfffffffe) continue;
    out.add(intToIPv4((addr & mask) | (~mask >>> 0)));
  }
  return [...out].sort();
}

/** The addresses of the non-internal IPv4 interfaces. */
export function localIPv4Addresses(ifaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string[] {
  const out = new Set<string>();
  for (const info of Object.values(ifaces).flat()) if (info !== undefined && isIPv4Info(info) && !info.internal) out.add(info.address);
  return [...out].sort();
}

function readInterfaces(): NodeJS.Dict<NetworkInterfaceInfo[]> {
  try {
    return networkInterfaces();
  } catch {
    return {}; // some sandboxes refuse to list interfaces: then only targets are used
  }
}

// Node 18.0–18.3 reported family as a number.
function isIPv4Info(info: NetworkInterfaceInfo): boolean {
  return (info.family as unknown) === 'IPv4' || (info.family as unknown) === 4;
}

function ipv4ToInt(s: string): number | undefined {
  if (!isIPv4(s)) return undefined;
  return s.split('.').reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
}

function intToIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function fail(message: string): never {
  throw new ChorusError(ErrorCode.InvalidConfig, `discovery: ${message}`);
}

const isPort = (p: unknown, min: number): boolean => Number.isInteger(p) && (p as number) >= min && (p as number) <= 65535;
const isRate = (r: unknown): boolean => typeof r === 'number' && Number.isFinite(r) && r > 0 && r <= 1e6;

/** Checks the options (throwing CHORUS_INVALID_CONFIG) and returns the parsed targets. */
function validate(o: Required<Omit<DiscoveryOptions, 'logger' | 'generation' | 'interfaces'>> & Pick<DiscoveryOptions, 'generation'>): { host: string; port: number }[] {
  if (typeof o.mesh !== 'string' || o.mesh.length === 0 || o.mesh.length > 255) fail('mesh must be a non-empty string of at most 255 characters');
  if (!isNodeId(o.nodeId)) fail(`nodeId must be 32 lowercase hex characters, got ${JSON.stringify(o.nodeId)}`);
  if (!isPort(o.listenPort, 1)) fail(`listenPort must be an integer in 1..65535, got ${String(o.listenPort)}`);
  if (!isPort(o.port, 0)) fail(`port must be an integer in 0..65535, got ${String(o.port)}`);
  const first = Number(o.multicastGroup.split('.')[0]);
  if (!isIPv4(o.multicastGroup) || first < 224 || first > 239) fail(`multicastGroup must be an IPv4 multicast address, got ${o.multicastGroup}`);
  if (!isIPv4(o.bindAddress)) fail(`bindAddress must be an IPv4 address, got ${o.bindAddress}`);
  if (!Number.isInteger(o.intervalMs) || o.intervalMs < 100 || o.intervalMs > 86_400_000) fail('intervalMs must be an integer in 100..86400000');
  if (!o.fastStartMs.every((ms) => Number.isInteger(ms) && ms >= 0 && ms <= 86_400_000)) fail('fastStartMs must hold integers in 0..86400000');
  if (!isRate(o.rateLimit.perSourcePerS) || !isRate(o.rateLimit.globalPerS)) fail('rateLimit rates must be positive numbers');
  if (o.generation !== undefined && !(Number.isSafeInteger(o.generation) && o.generation >= 0)) fail('generation must be a non-negative safe integer');
  if (typeof o.onPeer !== 'function') fail('onPeer must be a function');
  if (typeof o.codec?.seal !== 'function' || typeof o.codec.open !== 'function') fail('codec must have seal() and open()');
  return o.targets.map((t) => {
    const [host = '', portText] = t.split(':');
    const port = portText === undefined ? o.port : Number(portText);
    if (!isIPv4(host) || !isPort(port, 1) || t.split(':').length > 2) fail(`target must be "ip" or "ip:port" with a port in 1..65535, got ${JSON.stringify(t)}`);
    return { host, port };
  });
}
