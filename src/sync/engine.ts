import type { Clock } from '../core/clock.ts';
import { ChorusError, ErrorCode } from '../core/errors.ts';
import { parseNodeId, type NodeId } from '../core/ids.ts';
import type { Random } from '../core/random.ts';
import { Membership } from '../membership/membership.ts';
import type { Store, WriteResult } from '../store/store.ts';
import { applyWrite, type WriteOp } from '../store/write-op.ts';
import { AntiEntropy } from './anti-entropy.ts';
import { Collector } from './collector.ts';
import { membershipConfigOf, validateSyncConfig, type SyncConfig } from './config.ts';
import { probeOf, SyncContext } from './context.ts';
import type { EngineEvent, Outbound } from './events.ts';
// Re-exported so that drivers (simulator, daemon) import the whole Engine surface from here.
export type { Channel, EngineEvent, Outbound } from './events.ts';
import { Handshake } from './handshake.ts';
import { MESSAGE_TYPE_NAMES, MessageType, PROTOCOL_VERSION_MAX, RECEIVED_COUNTER, PROTOCOL_VERSION_MIN, type Message, type VersionRange } from './messages.ts';
import { OwnSeq } from './own-seq.ts';
import { Pusher } from './push.ts';
import { Replication, type PeerReplication } from './replication.ts';
import { Reconnector } from './reconnect.ts';
import { Bootstrap, SnapshotServer } from './snapshot.ts';
import { validateMessage } from './validate.ts';

/** What an Engine needs: identity, addresses, seeds, the store, time, randomness, config. */
export interface EngineInit {
  nodeId: NodeId;
  name: string;
  mesh: string;
  generation: number;
  bootNonce: string;
  /** This node's host, e.g. '10.0.0.7'. */
  address: string;
  /** Peers reach this node at `${address}:${port}`. */
  port: number;
  capabilities?: string[];
  tags?: Record<string, string>;
  /** 'host:port' seed addresses; our own address is skipped. */
  seeds: string[];
  /** Constructed by the caller (kept across restarts in the simulator). */
  store: Store;
  /** When this data directory last ran; with an empty store, or older than tombstoneTtlMs, bootstrap by snapshot. */
  lastActiveMs?: number;
  clock: Clock;
  random: Random;
  config: SyncConfig;
  /** Protocol versions spoken (default: this build's range); tests use it to fake an old peer. */
  protocolVersions?: VersionRange;
  /**
   * The time base of the `now` arguments at construction (default 0). Timers run on `now`
   * arguments only, never on `clock` (the HLC's wall clock, which may be skewed); a timer base
   * far behind the first `now` is harmless: overdue timers fire at the first tick.
   */
  now?: number;
}

export type { WriteOp } from '../store/write-op.ts';

/**
 * The sans-I/O node core that the simulator and the daemon drive: they deliver messages
 * (`receive`), call `tick` at `nextWakeAt()`, `flush` once per event-loop turn, and send
 * every returned Outbound. Nothing here reads a clock or a socket.
 *
 * Invariants:
 * 1. Every inbound value passes `validateMessage` or is dropped and counted by reason;
 *    `receive` never throws.
 * 2. A message from our own node id, or from a refused peer, changes nothing.
 * 3. After `leave`, the engine sends nothing more and drops what arrives.
 */
export class Engine {
  readonly store: Store;
  readonly membership: Membership;
  readonly nodeId: NodeId;
  readonly #ctx: SyncContext;
  readonly #handshake: Handshake;
  readonly #antiEntropy: AntiEntropy;
  readonly #pusher: Pusher;
  readonly #server: SnapshotServer;
  readonly #bootstrap: Bootstrap;
  readonly #reconnector: Reconnector;
  readonly #replication: Replication;
  readonly #ownSeq: OwnSeq;
  readonly #collector: Collector;
  #left = false;
  #lastNow: number;

  constructor(init: EngineInit) {
    const config = validateSyncConfig(init.config as unknown as Record<string, unknown>);
    this.nodeId = parseNodeId(init.nodeId);
    if (init.store.nodeId !== this.nodeId) throw new ChorusError(ErrorCode.InvalidConfig, `store belongs to ${init.store.nodeId}, not ${this.nodeId}`);
    const now = init.now ?? 0;
    const mconfig = membershipConfigOf(config);
    this.store = init.store;
    this.membership = new Membership({
      self: { nodeId: this.nodeId, name: init.name, generation: init.generation, addresses: [init.address], port: init.port, capabilities: init.capabilities ?? [], tags: init.tags ?? {} },
      bootNonce: init.bootNonce,
      config: mconfig,
      random: init.random,
      now,
      clock: init.clock,
    });
    const selfAddress = `${init.address}:${init.port}`;
    this.#ctx = new SyncContext({ nodeId: this.nodeId, mesh: init.mesh, bootNonce: init.bootNonce, selfAddress, store: init.store, membership: this.membership, config, random: init.random });
    const seeds = init.seeds.filter((s) => s !== selfAddress);
    this.#handshake = new Handshake(this.#ctx, seeds, init.protocolVersions ?? [PROTOCOL_VERSION_MIN, PROTOCOL_VERSION_MAX]);
    this.#ownSeq = new OwnSeq(this.#ctx, (peer) => this.#antiEntropy.open(peer, this.#bootstrap.running));
    this.#antiEntropy = new AntiEntropy(this.#ctx, this.#ownSeq, now);
    this.#pusher = new Pusher(this.#ctx);
    this.#ownSeq.onMoved((moved) => this.#pusher.renumbered(moved));
    this.#server = new SnapshotServer(this.#ctx);
    this.#reconnector = new Reconnector(this.#ctx);
    this.#replication = new Replication(this.#ctx);
    this.#collector = new Collector(this.#ctx, () => this.#replication.snapshot(), () => this.#reconnector.size, now);
    const empty = init.store.records().next().done === true;
    // lastActiveMs is wall-clock time, like the store's tombstone stamps.
    const stale = init.lastActiveMs !== undefined && init.clock.now() - init.lastActiveMs > init.store.options.tombstoneTtlMs;
    this.#bootstrap = new Bootstrap(this.#ctx, seeds.length > 0 && (empty || stale), stale && !empty);
    this.#ctx.onStale((peer, collected) => this.#bootstrap.markStale(peer, collected, this.#ctx.now));
    this.#lastNow = now;
    this.#ctx.now = now;
  }

  /** Says HELLO to the seeds. */
  start(now: number): Outbound[] {
    if (this.#left) return [];
    return this.#run(now, () => {
      this.#antiEntropy.schedule(now);
      this.#handshake.start(now);
    });
  }

  /** Periodic work due at `now`: membership timers, seed retries, snapshot stalls, a sync round, pending pushes. */
  tick(now: number): Outbound[] {
    if (this.#left) return [];
    return this.#run(now, () => {
      const ctx = this.#ctx;
      // Membership's timers run exactly when due (probe steps, suspicion expiry, reaping).
      if (now >= this.membership.nextWakeAt()) ctx.applyMembership(this.membership.tick(now));
      this.#handshake.tick(now);
      const finished = this.#bootstrap.tick(now);
      if (finished !== undefined) this.#afterBootstrap(finished);
      this.#server.tick(now);
      this.#collector.tick(now);
      this.#ownSeq.tick(now);
      if (this.#antiEntropy.due(now)) this.#syncRound(now);
      this.#pusher.flush();
    });
  }

  /** The earliest time `tick` has work (Infinity after leave). */
  nextWakeAt(): number {
    if (this.#left) return Number.POSITIVE_INFINITY;
    return Math.min(
      this.membership.nextWakeAt(),
      this.#antiEntropy.wakeAt(),
      this.#handshake.wakeAt(),
      this.#bootstrap.wakeAt(),
      this.#collector.wakeAt(),
      this.#ownSeq.wakeAt(),
      this.#pusher.ready ? this.#lastNow : Number.POSITIVE_INFINITY,
    );
  }

  /** Handles one inbound value (decoded, not validated) from transport address `fromAddress`. Never throws. */
  receive(fromAddress: string, raw: unknown, now: number): Outbound[] {
    return this.#run(now, () => {
      const ctx = this.#ctx;
      if (this.#left) return ctx.drop('stopped', fromAddress);
      const v = validateMessage(raw);
      if (!v.ok) return ctx.drop(v.reason, fromAddress);
      ctx.counters.inc(RECEIVED_COUNTER[v.message.t] as string);
      try {
        this.#dispatch(fromAddress, v.message, now);
      } catch {
        // A bug or a core's surprise must not take the node down; it is counted and visible.
        ctx.drop('handler-error', fromAddress);
      }
    });
  }

  /** A local write; throws the store's ChorusError on bad input; queues the records for eager push (not after leave). */
  write(op: WriteOp, now: number): WriteResult {
    this.#lastNow = Math.max(this.#lastNow, now);
    const result = applyWrite(this.store, op);
    if (result.changes.length > 0) this.#ctx.events.push({ type: 'change', changes: result.changes, origin: 'local' });
    if (!this.#left) this.#pusher.queue(result.records);
    return result;
  }

  /** The coalesced eager push of writes queued since the last flush. */
  flush(now: number): Outbound[] {
    if (this.#left) return [];
    return this.#run(now, () => this.#pusher.flush());
  }

  /** Graceful leave: our record goes out as `left` (LEAVE to peers, then gossip); the engine stops. */
  leave(now: number): Outbound[] {
    if (this.#left) return [];
    return this.#run(now, () => {
      const ctx = this.#ctx;
      ctx.applyMembership(this.membership.leave(now));
      const body = { t: MessageType.LEAVE, record: this.membership.self() } as const;
      for (const peer of this.#announceTargets()) ctx.send(peer, body, 'packet');
      this.#left = true;
    });
  }

  /** Our address changed: incarnation + 1, announced at once by HELLO to peers. */
  setAddress(address: string, port: number, now: number): Outbound[] {
    if (this.#left) return [];
    return this.#run(now, () => {
      const ctx = this.#ctx;
      ctx.applyMembership(this.membership.setAddresses([address], port, now));
      ctx.selfAddress = `${address}:${port}`;
      for (const peer of this.#announceTargets()) {
        const to = ctx.addressOf(peer);
        if (to !== undefined) this.#handshake.introduce(to, now);
      }
    });
  }

  /** A peer found out of band ('host:port', e.g. by LAN discovery): says HELLO unless it is us (rate-limited per address). */
  discovered(address: string, now: number): Outbound[] {
    if (this.#left) return [];
    return this.#run(now, () => {
      if (address !== this.#ctx.selfAddress) this.#handshake.introduce(address, now);
    });
  }

  /**
   * Call after the merges of the last messages are committed to storage: tells each writer how
   * far its writes are now durable here (STORED), which its write concern counts.
   */
  confirmStored(now: number): Outbound[] {
    if (this.#left) return [];
    return this.#run(now, () => this.#replication.confirm());
  }

  /** Peers alive now that confirmed committing our writes up to `seq`. */
  confirmedBy(seq: number): NodeId[] {
    return this.#replication.confirmedBy(seq);
  }

  /** What is known of each peer's copy: confirmed seq of our writes, last digest, last contact. */
  replication(): PeerReplication[] {
    return this.#replication.snapshot();
  }

  /** Events since the last call. */
  takeEvents(): EngineEvent[] {
    const events = this.#ctx.events;
    this.#ctx.events = [];
    return events;
  }

  /** Counts: sent/received by type, dropped by reason, refusals, pushes, forwards, rounds, chunks, membership's. */
  counters(): Record<string, number> {
    const out = this.#ctx.counters.snapshot();
    for (const [k, v] of Object.entries(this.membership.counters())) out[`membership:${k}`] = v;
    return out;
  }

  /** Whether this node still waits for (or is streaming) its bootstrap snapshot. */
  isBootstrapping(): boolean {
    return this.#bootstrap.needed;
  }

  /** Every alive peer when the mesh is small, else a full-fanout-sized sample. */
  #announceTargets(): readonly NodeId[] {
    const { peers, config, random } = this.#ctx;
    return peers.size + 1 <= config.fullFanoutMaxMembers ? peers.list().slice() : peers.sample(random, config.fullFanoutMaxMembers);
  }

  #run(now: number, work: () => void): Outbound[] {
    this.#lastNow = Math.max(this.#lastNow, now);
    this.#ctx.now = now;
    this.#ctx.out = [];
    work();
    const out = this.#ctx.out;
    this.#ctx.out = [];
    return out;
  }

  #syncRound(now: number): void {
    const ctx = this.#ctx;
    this.#reconnector.round(now, (address) => this.#handshake.introduce(address, now));
    const peer = ctx.peers.pick(ctx.random);
    if (peer === undefined) return;
    this.#bootstrap.start(peer, now);
    this.#antiEntropy.open(peer, this.#bootstrap.running);
  }

  #afterBootstrap(server: NodeId): void {
    // Switch to deltas at once: pick up what was written since the snapshot began.
    const ctx = this.#ctx;
    const peer = ctx.peers.has(server) ? server : ctx.peers.pick(ctx.random);
    if (peer !== undefined) this.#antiEntropy.open(peer, false);
  }

  #learnSender(address: string, m: Message, now: number): void {
    const known = this.membership.get(m.from) !== undefined;
    // Until its member record tells us better, answer a sender where it spoke from.
    if (this.#ctx.addressOf(m.from) === undefined) this.#ctx.learnAddress(m.from, address);
    if (m.gossip !== undefined) this.#ctx.applyMembership(this.membership.applyGossip(m.gossip, now, m.from));
    else this.membership.heard(m.from, now);
    if (!known && this.membership.get(m.from) === undefined) this.#handshake.introduce(address, now);
  }

  #dispatch(address: string, m: Message, now: number): void {
    const ctx = this.#ctx;
    if (m.from === this.nodeId) {
      if (m.t === MessageType.HELLO) this.#handshake.onHelloFromSelf(address, m, now);
      else ctx.drop('from-self', address);
      return;
    }
    // HELLO and WELCOME may clear a refusal; everything else from a refused peer is dropped.
    if (m.t !== MessageType.HELLO && m.t !== MessageType.WELCOME && this.#handshake.isRefused(m.from)) return ctx.drop('refused-peer', address);
    if (m.t === MessageType.HELLO) return this.#onHello(address, m, now);
    if (m.t === MessageType.WELCOME) return this.#onWelcome(address, m, now);
    this.#learnSender(address, m, now);
    this.#replication.observe(m, now);
    this.#handle(address, m, now);
  }

  #onHello(address: string, m: Extract<Message, { t: 1 }>, now: number): void {
    this.#handshake.onHello(address, m, now);
    if (!this.#handshake.isRefused(m.from) && m.gossip !== undefined) this.#ctx.applyMembership(this.membership.applyGossip(m.gossip, now, m.from));
  }

  #onWelcome(address: string, m: Extract<Message, { t: 2 }>, now: number): void {
    const outcome = this.#handshake.onWelcome(address, m, now);
    if (outcome === 'refused') return;
    if (m.gossip !== undefined) this.#ctx.applyMembership(this.membership.applyGossip(m.gossip, now, m.from));
    if (outcome !== 'join') return;
    // Joining: bootstrap from the first peer that welcomes us, and exchange state with it
    // at once (memberlist's join push-pull) so we learn the other members now.
    this.#bootstrap.start(m.from, now);
    this.#antiEntropy.open(m.from, this.#bootstrap.running);
  }

  #handle(address: string, m: Message, now: number): void {
    const ctx = this.#ctx;
    const running = (): boolean => this.#bootstrap.running;
    switch (m.t) {
      case MessageType.SYN:
        return this.#antiEntropy.onSyn(address, m, running);
      case MessageType.ACK:
        return this.#antiEntropy.onAck(address, m, now, running);
      case MessageType.ACK2:
        return this.#antiEntropy.onAck2(m, now);
      case MessageType.PUSH:
        return this.#pusher.onPush(m);
      case MessageType.PING:
      case MessageType.PING_REQ:
      case MessageType.PING_ACK:
        return ctx.applyMembership(this.membership.handleProbe(m.from, probeOf(m), now), m.reliable === true);
      case MessageType.SNAPSHOT_REQ:
        return this.#server.onReq(address, m, now);
      case MessageType.SNAPSHOT_CHUNK:
        this.#ownSeq.observe(m.from, m.start, now);
        return this.#bootstrap.onChunk(address, m, now);
      case MessageType.SNAPSHOT_END: {
        const server = this.#bootstrap.onEnd(address, m);
        if (server !== undefined) this.#afterBootstrap(server);
        return;
      }
      case MessageType.LEAVE:
        this.#replication.forget(m.from);
        return ctx.applyMembership(this.membership.applyGossip([m.record], now, m.from));
      case MessageType.STORED:
        return; // bookkeeping only, done in Replication.observe
      default:
        // CMD, CMD_RESULT, PUBLISH: validated now, routed once the routing and bindings cores exist.
        ctx.counters.inc(`unhandled:${MESSAGE_TYPE_NAMES[m.t]}`);
    }
  }
}
