import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { EventHub, type LiveEventBody } from '../api/events.ts';
import { buildHttp } from '../api/http.ts';
import { registerAuth } from '../api/auth.ts';
import { registerMetrics, type MetricsSource } from '../api/metrics.ts';
import { TOKEN_FILE, TokenStore } from '../api/tokens.ts';
import type { CompatPeerView, CompatSyncAnswer, NodeApi, NodeInfo, PeerReplicationView, ReplicaOutcome, WriteOp } from '../api/node-api.ts';
import { ChorusError, ErrorCode } from '../core/errors.ts';
import type { NodeId } from '../core/ids.ts';
import type { Json } from '../core/json.ts';
import type { MemberRecord } from '../membership/member.ts';
import { GroupCommitter } from '../storage/group-commit.ts';
import { journalBatch } from '../storage/journal-batch.ts';
import { DataDir } from '../storage/data-dir.ts';
import { SqliteStorage } from '../storage/sqlite-storage.ts';
import type { StorageBatch } from '../storage/storage-adapter.ts';
import { Store, type JournalEntry, type WriteResult } from '../store/index.ts';
import { resolveSyncConfig } from '../sync/config.ts';
import { Engine, type EngineEvent, type Outbound } from '../sync/engine.ts';
import { decodeMessage, encodeMessage } from '../sync/wire.ts';
import { Discovery } from '../transport/discovery.ts';
import { FrameCodec } from '../transport/frame.ts';
import { Keyring } from '../transport/keyring.ts';
import { MeshTransport } from '../transport/mesh-transport.ts';
import { AddressWatch } from './address-watch.ts';
import { Integrity } from './integrity.ts';
import { LateApi } from './late-api.ts';
import { addressWatchMs, chooseBindHost, listen, randomNonce } from './startup.ts';
import { CompatPeers, hostPort, memberView } from './compat-peers.ts';
import { advertisedAddress, isLoopback, isWildcard } from './addresses.ts';
import type { NodeConfig } from './config.ts';
import { CryptoRandom, monotonicClock, systemClock } from './system.ts';

const MAX_FRAME_BYTES = 8 * 1024 * 1024;

/**
 * Mesh link keepalive per timer preset. A link whose socket died silently (our address removed
 * under it, a Wi-Fi roam, a NAT entry dropped) is dropped after two silent intervals and
 * redialed; the transport's generic 15 s left such a link "open" for up to 30 s, long after
 * failure detection had declared the peer dead, and nothing reached the peer meanwhile.
 */
const LINK_KEEPALIVE_MS = { local: 2_000, lan: 5_000, wan: 15_000 } as const;

/** Monotonic milliseconds: the time base of every protocol timer. */
const monotonic = (): number => performance.now();

/**
 * A running Chorus node: the sync Engine driven by real timers, fed by WebSocket mesh links and
 * UDP discovery, mirrored into SQLite, and served over HTTP on the same port as the mesh.
 *
 * Invariants:
 * 1. A local write is acknowledged only after the transaction holding it commits.
 * 2. Eager pushes leave only after the writes they carry are committed, so a restarted node
 *    never reuses a sequence number a peer already holds.
 * 3. The generation is on disk before the node sends anything: at start, and when the mesh
 *    makes the engine raise it (a generation that went backwards), before the messages that
 *    carry it leave.
 */
export class ChorusNode implements NodeApi {
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private lastCommit: Promise<void> = Promise.resolve();
  private pushPending = false;
  private stopping: Promise<void> | undefined;
  private readonly startedAt = Date.now();
  private addresses: string[];
  /** Write-concern waits, checked whenever a peer's confirmation may have arrived. */
  private waiters: { seq: number; required: number; done: (o: ReplicaOutcome) => void }[] = [];
  /** Change events wait here until the commit that makes them durable. */
  private pendingEvents: LiveEventBody[] = [];
  /** Local writes committed, by kind: read by /metrics. */
  private readonly writes: Partial<Record<WriteOp['kind'], number>> = {};
  /** Consumer-scheduler peers (seed 004), restored from storage meta 'compatPeers'. */
  private compat = new CompatPeers();
  /** Records dropped visibly, for /api/v1/node and the log. */
  private readonly integrity: Integrity;
  /** What node.json holds (rewritten when the generation is raised). */
  private nodeInfo: Record<string, unknown> = {};

  private constructor(
    readonly config: NodeConfig,
    readonly log: Logger,
    readonly dataDir: DataDir,
    readonly storage: SqliteStorage,
    readonly committer: GroupCommitter,
    readonly store: Store,
    readonly engine: Engine,
    readonly http: FastifyInstance,
    readonly events: EventHub,
    readonly transport: MeshTransport,
    /** This run's generation: persisted at start, raised if the mesh remembers a later one. */
    public generation: number,
    readonly secure: boolean,
    readonly port: number,
    advertised: string,
    private discovery: Discovery | undefined,
    private readonly watch: AddressWatch | undefined,
  ) {
    this.addresses = [advertised];
    this.integrity = new Integrity(log);
  }

  /** Opens the data directory, restores state, listens, and joins the mesh. */
  static async start(config: NodeConfig, log: Logger): Promise<ChorusNode> {
    const keyFile = config.keyFile ?? `${config.data}/keyring.json`;
    const bindHost = chooseBindHost(config, keyFile);
    const random = new CryptoRandom();
    const dataDir = DataDir.open(config.data, config.nodeId === undefined ? { random } : { nodeIdOverride: config.nodeId, random });
    try {
      return await ChorusNode.open(config, log, dataDir, keyFile, bindHost);
    } catch (e) {
      dataDir.close();
      throw e;
    }
  }

  private static async open(config: NodeConfig, log: Logger, dataDir: DataDir, keyFile: string, bindHost: string): Promise<ChorusNode> {
    const watchMs = addressWatchMs();
    const keyring = existsSync(keyFile) ? Keyring.load(keyFile) : null;
    if (keyring === null && !config.insecure && !isLoopback(bindHost)) {
      throw new ChorusError(ErrorCode.InvalidConfig, `no mesh key at ${keyFile}: refusing to listen on ${bindHost} unencrypted (run \`chorus key generate\` or pass --insecure)`);
    }
    const nodeId = dataDir.nodeId as NodeId;
    const storage = new SqliteStorage(dataDir.path('chorus.db'), { synchronous: config.durability });
    const state = await storage.load();
    const store = new Store({ nodeId, clock: systemClock, monotonic: monotonicClock });
    store.load(state.records, state.digest);
    store.restoreCollected(await storage.getMeta('gc'));
    const lastActive = await storage.getMeta('lastActiveMs');
    const compatStored = await storage.getMeta('compatPeers');
    const committer = new GroupCommitter(storage);
    const generation = dataDir.nextGeneration();

    const codec = new FrameCodec({ mesh: config.mesh, keyring, maxFrameBytes: MAX_FRAME_BYTES });
    let node: ChorusNode | undefined; // eslint-disable-line prefer-const -- assigned after the closures that read it
    const transport = new MeshTransport({
      mesh: config.mesh,
      nodeId,
      selfAddress: `${bindHost}:0`,
      codec,
      maxFrameBytes: MAX_FRAME_BYTES,
      limits: { keepaliveMs: LINK_KEEPALIVE_MS[config.preset] },
      onMessage: (from, payload) => node?.deliver(from, payload),
      logger: { info: (m, f) => log.info(f ?? {}, m), warn: (m, f) => log.warn(f ?? {}, m), debug: (m, f) => log.debug(f ?? {}, m) },
    });
    const api = new LateApi();
    const app = buildHttp(api, { bodyLimit: config.apiBodyLimit, rateLimit: { perSecond: config.apiRateLimit, burst: config.apiRateBurst } });
    const tokens = TokenStore.open(dataDir.path(TOKEN_FILE), (e) => log.error(`${e.message}: every API token is refused until it is fixed`));
    const auth = registerAuth(app, { tokens, loopbackOpen: config.apiLoopbackOpen });
    registerMetrics(app, () => node?.metricsSource(codec));
    if (!config.apiLoopbackOpen && tokens.activeCount() === 0) log.warn('the API is closed to loopback and no token exists: create one with `chorus token create`');
    const events = new EventHub();
    transport.attach(app.server);
    events.attach(app.server, (req) => auth.authorizeUpgrade(req) === true);
    const port = await listen(app, bindHost, config.port);
    const advertised = advertisedAddress(bindHost);
    transport.setSelfAddress(`${advertised}:${port}`);

    const peerSeeds = state.members.filter((m) => m.nodeId !== nodeId).map((m) => `${m.addresses[0] ?? ''}:${m.port}`);
    const engine = new Engine({
      nodeId,
      name: config.name,
      mesh: config.mesh,
      generation,
      bootNonce: randomNonce(),
      address: advertised,
      port,
      seeds: [...new Set([...config.seeds, ...peerSeeds])],
      store,
      clock: systemClock,
      random: new CryptoRandom(),
      config: resolveSyncConfig(config.preset),
      now: monotonic(),
      ...(typeof lastActive === 'number' ? { lastActiveMs: lastActive } : {}),
    });
    const watch = isWildcard(bindHost) ? new AddressWatch({ intervalMs: watchMs, onChange: (addrs) => node?.addressesChanged(addrs) }) : undefined;
    node = new ChorusNode(config, log, dataDir, storage, committer, store, engine, app, events, transport, generation, keyring !== null, port, advertised, undefined, watch);
    node.compat = new CompatPeers(compatStored);
    api.node = node;
    store.attachJournal((journal) => node?.persist(journal));
    store.trackDurability();
    const url = `http://${isWildcard(bindHost) ? '127.0.0.1' : bindHost}:${port}`;
    node.nodeInfo = { nodeId, pid: process.pid, url, port, host: bindHost, advertised, mesh: config.mesh, name: config.name, generation };
    dataDir.writeNodeInfo(node.nodeInfo);
    log.info({ nodeId, generation, port, url, advertised, secure: keyring !== null, records: state.records.length }, `chorus node listening on ${bindHost}:${port}`);
    node.begin(codec, bindHost);
    return node;
  }

  private begin(codec: FrameCodec, bindHost: string): void {
    this.send(this.engine.start(monotonic()));
    this.watch?.start();
    if (this.config.discovery && !isLoopback(bindHost)) {
      this.discovery = new Discovery({
        mesh: this.config.mesh,
        nodeId: this.engine.nodeId,
        listenPort: this.port,
        codec,
        port: this.config.discoveryPort,
        onPeer: (peer) => this.send(this.engine.discovered(peer.address, monotonic())),
      });
      this.discovery.start().catch((e: Error) => this.log.warn(`discovery unavailable: ${e.message}`));
    }
  }

  // ---- engine plumbing ----------------------------------------------------------------

  private deliver(from: string, payload: Uint8Array): void {
    if (this.stopping) return;
    let raw: unknown;
    try {
      raw = decodeMessage(payload);
    } catch {
      raw = undefined; // counted by the engine's validator as malformed
    }
    this.send(this.engine.receive(from, raw, monotonic()));
  }

  private send(out: readonly Outbound[]): void {
    // Events first: a raised generation is persisted before the messages carrying it leave (invariant 3).
    const events = this.engine.takeEvents();
    for (const ev of events) if (ev.type === 'generation') this.generationRaised(ev.previous, ev.generation);
    for (const o of out) this.transport.send(o.to, encodeMessage(o.message), o.channel);
    for (const ev of events) this.observe(ev);
    if (this.waiters.length > 0) this.checkWaiters();
    this.schedule();
  }

  private checkWaiters(): void {
    this.waiters = this.waiters.filter((w) => {
      const confirmed = this.engine.confirmedBy(w.seq);
      if (confirmed.length < w.required) return true;
      w.done({ ok: true, confirmed, required: w.required });
      return false;
    });
  }

  private schedule(): void {
    if (this.stopping) return;
    const at = Math.max(this.engine.nextWakeAt(), monotonic()); // -Infinity means "now"
    if (at === Infinity || (this.timer !== undefined && this.timerAt <= at)) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.send(this.engine.tick(monotonic()));
    }, Math.max(0, Math.min(at - monotonic(), 2 ** 31 - 1)));
  }

  private observe(ev: EngineEvent): void {
    if (ev.type === 'change') {
      const at = Date.now();
      for (const c of ev.changes) this.pendingEvents.push({ kind: 'object', id: c.objectId, set: c.set, removed: c.removed, created: c.created, deleted: c.deleted, origin: ev.origin, node: c.origin, ts: c.ts, at });
    } else if (ev.type === 'member') {
      this.events.publish({ kind: 'member', nodeId: ev.nodeId, name: ev.member.name, previous: ev.previous, status: ev.status, at: Date.now() });
      this.log.info({ peer: ev.nodeId, name: ev.member.name, from: ev.previous, to: ev.status }, `member ${ev.member.name} ${ev.status}`);
      const batch: StorageBatch = ev.status === 'removed' ? { members: { remove: [ev.nodeId] } } : { members: { put: [ev.member] } };
      this.committer.submit(batch).catch((e: Error) => this.log.error(`storing member ${ev.nodeId} failed: ${e.message}`));
    } else if (ev.type === 'duplicate-identity') {
      this.log.error({ nodeId: ev.nodeId, address: ev.address }, 'another process uses this node id (a copied data directory?): refused');
    } else if (ev.type === 'records-dropped') {
      this.integrity.observe(ev, Date.now());
    } else if (ev.type === 'bootstrap') {
      this.log.info({ from: ev.from }, `snapshot bootstrap ${ev.phase}`);
    }
  }

  /**
   * The mesh remembered a later generation of this node than the one it started with (a
   * restored data directory, a deleted `generation` file), and the engine continued above it.
   * Persisted durably, so the next start begins above it; shown by /api/v1/node and node.json.
   */
  private generationRaised(previous: number, generation: number): void {
    this.generation = generation;
    try {
      this.dataDir.setGeneration(generation);
      this.dataDir.writeNodeInfo({ ...this.nodeInfo, generation });
      this.nodeInfo = { ...this.nodeInfo, generation };
    } catch (e) {
      this.log.error({ generation }, `persisting the raised generation failed: ${(e as Error).message}; the next start may go backwards again`);
    }
    this.log.warn(
      { previous, generation },
      `generation went backwards: this node started at generation ${previous} but the mesh remembers a later one (restored data directory or deleted generation file); raised to ${generation}, the next start uses ${generation + 1}`,
    );
  }

  /** Mirrors a store journal into storage; pushes of committed writes follow the commit. */
  private persist(journal: readonly JournalEntry[]): void {
    const commit = this.committer.submit(journalBatch(this.store, journal, Date.now()));
    const ownSeq = this.store.lastOwnSeq();
    this.lastCommit = commit;
    commit.then(
      () => {
        this.store.markDurable(ownSeq);
        this.flushPushes();
      },
      (e: Error) => this.log.error(`storage commit failed: ${e.message}`),
    );
  }

  private flushPushes(): void {
    if (this.pushPending) return;
    this.pushPending = true;
    queueMicrotask(() => {
      this.pushPending = false;
      // Flushing also collects the engine's events, so every committed change is published here;
      // merged records are now durable, so their writers may count this node (STORED).
      if (!this.stopping) this.send([...this.engine.flush(monotonic()), ...this.engine.confirmStored(monotonic())]);
      const ready = this.pendingEvents;
      this.pendingEvents = [];
      for (const e of ready) this.events.publish(e);
    });
  }

  private addressesChanged(addresses: string[]): void {
    const next = addresses[0];
    if (next === undefined || next === this.addresses[0]) return;
    this.log.info({ from: this.addresses, to: addresses }, 'address changed: telling peers');
    this.addresses = addresses;
    this.transport.setSelfAddress(`${next}:${this.port}`);
    this.send(this.engine.setAddress(next, this.port, monotonic()));
    this.discovery?.announce();
  }

  // ---- NodeApi ------------------------------------------------------------------------

  /** Applies a local write; resolves once it is committed locally. */
  async write(op: WriteOp): Promise<WriteResult> {
    if (this.stopping) throw new ChorusError(ErrorCode.ShuttingDown, 'the node is shutting down');
    const result = this.engine.write(op, monotonic());
    await this.lastCommit;
    this.writes[op.kind] = (this.writes[op.kind] ?? 0) + 1;
    return result;
  }

  /** Waits for `replicas` peer confirmations of our writes up to `seq`, or the timeout. */
  awaitReplicas(seq: number, replicas: number | 'all', timeoutMs: number): Promise<ReplicaOutcome> {
    const required = replicas === 'all' ? this.engine.membership.aliveNodeIds().length : replicas;
    const confirmed = this.engine.confirmedBy(seq);
    if (confirmed.length >= required) return Promise.resolve({ ok: true, confirmed, required });
    return new Promise((resolve) => {
      const waiter = {
        seq,
        required,
        done: (o: ReplicaOutcome) => {
          clearTimeout(timer);
          resolve(o);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve({ ok: false, confirmed: this.engine.confirmedBy(seq), required });
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  replication(): readonly PeerReplicationView[] {
    const ours = this.store.digest();
    const now = monotonic();
    const known = new Map(this.engine.replication().map((p) => [p.nodeId as string, p]));
    return this.engine.membership.members().filter((m) => m.nodeId !== this.engine.nodeId).map((m) => {
      const p = known.get(m.nodeId);
      let lag: number | null = null;
      if (p?.digest !== undefined) {
        lag = 0;
        for (const [origin, seq] of Object.entries(ours)) lag += Math.max(0, seq - (p.digest[origin] ?? 0));
      }
      return { nodeId: m.nodeId, name: m.name, status: m.status, lagRecords: lag, confirmedSeq: p?.storedSeq ?? 0, lastContactAgoMs: p?.lastContactMs === undefined ? null : Math.round(now - p.lastContactMs) };
    });
  }

  ready(): boolean {
    return !this.engine.isBootstrapping() && this.stopping === undefined;
  }

  get(id: string): Record<string, Json> | undefined {
    return this.store.get(id);
  }

  list(opts: { prefix?: string; after?: string; limit?: number }): { id: string; fields: Record<string, Json> }[] {
    return this.store.list(opts);
  }

  members(): readonly MemberRecord[] {
    return [this.engine.membership.self(), ...this.engine.membership.members().filter((m) => m.nodeId !== this.engine.nodeId)];
  }

  info(): NodeInfo {
    const all = Object.entries(this.transport.links());
    const links = new Map(all.map(([addr, l]) => [addr, l.state]));
    // Summed over the links held now: a link forgotten after it closed takes its counts with it.
    const transport = { bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0 };
    for (const [, l] of all) {
      transport.bytesIn += l.bytesIn;
      transport.bytesOut += l.bytesOut;
      transport.framesIn += l.framesIn;
      transport.framesOut += l.framesOut;
    }
    return {
      nodeId: this.engine.nodeId,
      name: this.config.name,
      mesh: this.config.mesh,
      generation: this.generation,
      addresses: this.addresses,
      port: this.port,
      url: `http://${this.addresses[0]}:${this.port}`,
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      secure: this.secure,
      bootstrapping: this.engine.isBootstrapping(),
      store: this.store.stats(),
      transport,
      peers: this.engine.membership.members().filter((m) => m.nodeId !== this.engine.nodeId).map((m) => {
        const address = `${m.addresses[0] ?? ''}:${m.port}`;
        return { nodeId: m.nodeId, name: m.name, status: m.status, address, link: links.get(address) ?? 'none' };
      }),
      integrity: this.integrity.view(this.engine.counters()),
    };
  }

  /** What /metrics reads at each scrape: the counters the engine, transport, codec, store and committer keep. */
  metricsSource(codec: FrameCodec): MetricsSource {
    return {
      engineCounters: () => this.engine.counters(),
      links: () => this.transport.links(),
      framesRejected: () => codec.counters().rejected,
      memberStatuses: () => this.engine.membership.members().map((m) => m.status),
      replicationLag: () => this.replication().map((p) => ({ peer: p.nodeId, records: p.lagRecords })),
      writes: () => ({ ...this.writes }),
      store: () => this.store.stats(),
      commits: () => this.committer.stats(),
      eventClients: () => this.events.clientCount,
    };
  }

  health(): { ok: boolean; checks: Record<string, boolean> } {
    const checks = { process: !this.stopping, storage: this.storage.isOpen(), transport: this.http.server.listening };
    return { ok: Object.values(checks).every(Boolean), checks };
  }

  isStopping(): boolean {
    return this.stopping !== undefined;
  }

  // ---- consumer-scheduler compatibility (seed 004) --------------------------------------

  /** POST /sync: a mesh member is greeted at that address; anyone else is recorded as a compat peer. */
  async compatSync(uuid: string, address: string): Promise<CompatSyncAnswer> {
    await this.compatSeen(uuid, address);
    const now = Date.now();
    const lastContact = new Map(this.replication().map((p) => [p.nodeId as string, p.lastContactAgoMs]));
    const members = this.engine.membership.members().filter((m) => m.nodeId !== this.engine.nodeId);
    const peers = [...members.map((m) => memberView(m, lastContact.get(m.nodeId) ?? null, now)), ...this.compat.views(now)];
    return { uuid: this.engine.nodeId, peers: peers.filter((p) => p.uuid !== uuid) };
  }

  /** POST /ip: the peer keeps its identity and is reached at `ip` from now on. */
  async compatIp(uuid: string, ip: string): Promise<CompatPeerView> {
    const member = await this.compatSeen(uuid, ip);
    const now = Date.now();
    if (member === undefined) return this.compat.view(this.compat.get(uuid) ?? this.compat.seen(uuid, ip, now), now);
    return { ...memberView(member, null, now), address: hostPort(ip, member.port), lastSeen: new Date(now).toISOString() };
  }

  /** A member is dialled at `ip` (the engine learns its address by handshake); others are stored. */
  private async compatSeen(uuid: string, ip: string): Promise<MemberRecord | undefined> {
    if (uuid === this.engine.nodeId) throw new ChorusError(ErrorCode.InvalidPeer, `uuid ${uuid} is this node's own id`);
    const member = this.engine.membership.members().find((m) => m.nodeId === uuid);
    if (member !== undefined) {
      this.send(this.engine.discovered(hostPort(ip, member.port), monotonic()));
      return member;
    }
    this.compat.seen(uuid, ip, Date.now());
    await this.committer.submit({ meta: { compatPeers: this.compat.toStored() } });
    return undefined;
  }

  // ---- shutdown -----------------------------------------------------------------------

  /** Leaves the mesh gracefully (peers see 'left'), flushes storage, releases the directory. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.watch?.stop();
    for (const o of this.engine.leave(monotonic())) this.transport.send(o.to, encodeMessage(o.message), o.channel);
    // Give LEAVE frames a moment on the wire before links close.
    await new Promise((r) => setTimeout(r, 100));
    await this.discovery?.stop().catch(() => undefined);
    this.events.close();
    await this.transport.close();
    await this.http.close();
    await this.committer.submit({ meta: { lastActiveMs: Date.now() } }).catch(() => undefined);
    await this.committer.close();
    this.dataDir.close();
    this.log.info('chorus node stopped');
  }
}
