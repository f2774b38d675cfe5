import { createHash, type Hash } from 'node:crypto';
import { newNodeId, type NodeId } from '../core/ids.ts';
import { startLife } from './lifecycle.ts';
import { SeededRandom, randomInt } from '../core/random.ts';
import type { StoreOptions, StoreRecord } from '../store/index.ts';
import type { Engine, EngineEvent, Outbound, WriteOp } from '../sync/engine.ts';
import { membershipConfigOf, resolveSyncConfig, type SyncConfig } from '../sync/config.ts';
import type { MessageType } from '../sync/messages.ts';
import { decodeMessage, encodeMessage } from '../sync/wire.ts';
import { EventQueue } from './event-queue.ts';
import { falseDeathWindowMs, FalseDeathJudge } from './false-deaths.ts';
import { coreProblems, InvariantLog, pushedBeforeCommit } from './invariants.ts';
import { SimNetwork } from './network.ts';
import { Oracle } from './oracle.ts';
import { play } from './play.ts';
import { replicasIdentical, type Outcome } from './checkers.ts';
import type { Scenario, Timing } from './scenario.ts';
import { SimClock } from './sim-clock.ts';
import { SimDisk } from './sim-disk.ts';
import { Persistence } from './persistence.ts';
import { SimNode } from './sim-node.ts';
import { DEFAULT_WORKLOAD, randomOp, type Workload } from './workload.ts';

/** Parameters of one simulated run; unset ones come from the scenario, then the defaults. */
export interface SimOptions extends Partial<Timing>, Partial<Workload> {
  readonly nodes: number;
  /** Any integer in 0..2^64−1. */
  readonly seed: number | bigint;
  readonly scenario: Scenario;
  /** Sync settings for every node, over the scenario's, over the lan preset. */
  readonly sync?: Partial<SyncConfig>;
  /** Store options for every node, over the scenario's. */
  readonly store?: Partial<StoreOptions>;
  /** Record a trace hash over every delivery (on by default). */
  readonly trace?: boolean;
  /** How many of the first nodes every node is given as seeds (default 3). */
  readonly seedCount?: number;
  /** Issue random client writes until healing (on by default). */
  readonly clientWrites?: boolean;
  /** Debug mode: check the cores' invariants on every node a step touched, after every step. */
  readonly checkInvariants?: boolean;
  /** Sees every engine event as it happens (benchmarks measure with it). */
  readonly onEvent?: (node: number, event: EngineEvent, nowMs: number) => void;
}

type Ev =
  | { k: 'deliver'; from: number; to: number; bytes: Uint8Array; epoch: number; stream: number | undefined }
  | { k: 'wake'; node: number; epoch: number }
  | { k: 'commit'; node: number; epoch: number }
  | { k: 'action'; run: () => void }
  | { k: 'write' }
  | { k: 'check' };

/** An armed stream cut (see FaultControl.cutStream). */
interface Cut {
  readonly node: number;
  readonly type: MessageType;
  remaining: number;
}

const PORT = 7946;

/**
 * Runs N real Engines over a simulated network and simulated storage, in virtual time.
 * Everything random comes from one seeded PRNG, so a seed replays the same run, message for
 * message (the trace hash proves it).
 *
 * As `chorus start` does, each node mirrors its store into storage through the journal, commits
 * in groups, acknowledges a client write only once its batch commits, and flushes pushes and
 * STORED confirmations after each commit; a crash loses the uncommitted tail and a restart
 * rebuilds store and engine from what was committed, with generation + 1.
 */
export class Simulation {
  readonly opts: Required<Omit<SimOptions, 'sync' | 'store' | 'onEvent'>> & { sync: SyncConfig; store: Partial<StoreOptions> };
  private readonly onEvent: SimOptions['onEvent'];
  readonly random: SeededRandom;
  readonly net: SimNetwork;
  readonly nodes: SimNode[] = [];
  readonly oracle = new Oracle();
  readonly invariants = new InvariantLog();
  readonly deaths: FalseDeathJudge;
  private readonly storage: Persistence;
  private readonly queue = new EventQueue<Ev>();
  private readonly byAddress = new Map<string, number>();
  private readonly byId = new Map<NodeId, SimNode>();
  private readonly trace: Hash | undefined;
  private readonly touched = new Set<SimNode>();
  private readonly cuts: Cut[] = [];
  now = 0;
  /** Own records that left in an eager push before their commit (see pushedBeforeCommit). */
  earlyPushes = 0;
  messages = 0;
  bytes = 0;
  /** Virtual ms at which the replicas were first identical after healing. */
  convergedAt: number | undefined;
  readonly faultStartMs: number;
  readonly faultEndMs: number;
  /** See falseDeathWindowMs. */
  readonly falseDeathWindowMs: number;

  constructor(options: SimOptions) {
    const s = options.scenario;
    const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
    this.opts = {
      warmupMs: 10_000,
      faultMs: 30_000,
      settleMaxMs: 120_000,
      ...DEFAULT_WORKLOAD,
      trace: true,
      clientWrites: true,
      seedCount: 3,
      checkInvariants: false,
      ...s.timing,
      ...s.workload,
      ...defined(options),
      nodes: options.nodes,
      seed: options.seed,
      scenario: s,
      sync: resolveSyncConfig('lan', { ...s.sync, ...options.sync }),
      store: { ...s.store, ...options.store },
    };
    this.onEvent = options.onEvent;
    this.random = new SeededRandom(options.seed);
    this.net = new SimNetwork(options.nodes, this.random.fork());
    this.trace = this.opts.trace ? createHash('sha256') : undefined;
    this.faultStartMs = this.opts.warmupMs;
    this.faultEndMs = this.opts.warmupMs + this.opts.faultMs;
    this.falseDeathWindowMs = falseDeathWindowMs(membershipConfigOf(this.opts.sync), options.nodes);
    this.storage = new Persistence({
      now: () => this.now,
      random: this.random,
      oracle: this.oracle,
      scheduleCommit: (node, atMs) => this.queue.push(atMs, { k: 'commit', node: node.index, epoch: node.epoch }),
      dispatch: (node, out) => this.dispatch(node, out),
      failStop: (node) => this.crash(node.index),
    });
    this.deaths = new FalseDeathJudge(this.net, { lossOnly: s.lossOnly, healAtMs: this.faultEndMs, windowMs: this.falseDeathWindowMs });
    const idRandom = this.random.fork();
    for (let i = 0; i < options.nodes; i++) {
      const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      const node = new SimNode(i, newNodeId(idRandom), address, PORT, new SimClock(() => this.now), new SimDisk());
      this.nodes.push(node);
      this.byAddress.set(node.endpoint, i);
      this.byId.set(node.nodeId, node);
    }
  }

  /** The addresses every node starts with: the first three nodes, as ESPGossip's shared seed list. */
  private seeds(): string[] {
    return this.nodes.slice(0, Math.min(this.opts.seedCount, this.nodes.length)).map((n) => n.endpoint);
  }

  // ---- node lifecycle -----------------------------------------------------------------

  /** Starts node `i` from its committed storage, as `chorus start` does: generation + 1, stored before the engine starts. */
  boot(i: number): void {
    const node = this.nodes[i] as SimNode;
    if (node.life !== undefined) return;
    this.reset(node);
    const epoch = node.epoch;
    const life = startLife(node, {
      now: this.now,
      random: this.random.fork(),
      sync: this.opts.sync,
      store: this.opts.store,
      seeds: this.seeds(),
      persist: (store, journal) => {
        if (node.epoch === epoch) this.storage.persist(node, store, journal);
      },
    });
    node.life = life;
    node.lastGeneration = life.generation;
    this.dispatch(node, life.engine.start(this.now));
  }

  /** Stops node `i` at once: uncommitted batches are lost; store, HLC, engine and membership are discarded. */
  crash(i: number): void {
    const node = this.nodes[i] as SimNode;
    const life = node.life;
    if (life === undefined) return;
    node.disk.crash();
    // Our writes above the durable seq never left the node (commit before push): they never happened.
    this.oracle.retractAbove(node.nodeId, life.store.durableOwnSeq());
    node.life = undefined;
    this.reset(node);
  }

  /** Node `i` leaves gracefully, waits for its commits and stops, as `chorus stop` does. */
  leave(i: number): void {
    const node = this.nodes[i] as SimNode;
    const life = node.life;
    if (life === undefined) return;
    this.dispatch(node, life.engine.leave(this.now));
    this.storage.drain(node, life.store);
    this.crash(i);
  }

  private reset(node: SimNode): void {
    node.epoch++;
    node.inbox = [];
    node.pausedUntil = 0;
    node.wakeAt = Infinity;
  }

  /** Whether node `i` is running. */
  isUp(i: number): boolean {
    return (this.nodes[i] as SimNode).life !== undefined;
  }

  /** Suspends node `i` for `ms`: what arrives meanwhile waits, timers do not fire. */
  pause(i: number, ms: number): void {
    const node = this.nodes[i] as SimNode;
    if (node.life === undefined) return;
    const epoch = node.epoch;
    node.pausedUntil = this.now + ms;
    this.at(this.now + ms, () => {
      if (node.epoch !== epoch) return;
      node.resumedAt = this.now;
      const inbox = node.inbox;
      node.inbox = [];
      node.wakeAt = Infinity;
      for (const run of inbox) run();
      this.dispatch(node, []);
    });
  }

  // ---- event loop ---------------------------------------------------------------------

  /** Sends what an engine returned, collects its events and (unless told not to) re-arms its timer. */
  private dispatch(node: SimNode, out: readonly Outbound[], rearm = true): void {
    for (const o of out) {
      const early = pushedBeforeCommit(node, o.message);
      if (early > 0) this.earlyPushes += early;
      const to = this.byAddress.get(o.to);
      if (to === undefined || to === node.index) continue;
      const bytes = encodeMessage(o.message);
      this.messages++;
      this.bytes += bytes.length;
      const epoch = (this.nodes[to] as SimNode).epoch;
      for (const d of this.net.route(node.index, to, o.channel, this.now)) {
        this.queue.push(d.atMs, { k: 'deliver', from: node.index, to, bytes, epoch, stream: d.stream });
      }
      if (o.channel === 'stream' && this.cuts.length > 0) this.maybeCut(node.index, to, o.message.t);
    }
    this.touched.add(node);
    const e = node.engine;
    if (e === undefined) return;
    for (const ev of e.takeEvents()) this.observe(node, ev);
    if (rearm) this.reschedule(node, e);
  }

  private maybeCut(from: number, to: number, type: MessageType): void {
    const k = this.cuts.findIndex((c) => c.type === type && (c.node === from || c.node === to));
    const cut = this.cuts[k];
    if (cut === undefined || --cut.remaining > 0) return;
    this.cuts.splice(k, 1);
    this.net.resetStream(from, to);
  }

  /** Arms a stream cut (see FaultControl.cutStream). */
  armCut(node: number, type: MessageType, nth: number): void {
    this.cuts.push({ node, type, remaining: Math.max(1, nth) });
  }

  private reschedule(node: SimNode, e: Engine): void {
    // At least 1 ms ahead: a tick must not be rescheduled for the instant it just handled.
    const at = Math.max(this.now + 1, e.nextWakeAt());
    if (at < node.wakeAt || node.wakeAt < this.now) {
      node.wakeAt = at;
      if (Number.isFinite(at)) this.queue.push(at, { k: 'wake', node: node.index, epoch: node.epoch });
    }
  }

  private observe(node: SimNode, ev: EngineEvent): void {
    this.onEvent?.(node.index, ev, this.now);
    if (ev.type === 'records-dropped') this.oracle.dropped(ev.reason, ev.records, ev.horizon);
    if (ev.type !== 'member') return;
    // The runtime keeps member records in storage; a restart dials the ones it remembers.
    this.storage.member(node, ev.nodeId, ev.status === 'removed' ? undefined : ev.member);
    if (ev.status === 'dead') this.deaths.judge(node, this.byId.get(ev.nodeId), ev.member.generation, this.now);
  }

  private handle(ev: Ev): void {
    switch (ev.k) {
      case 'deliver': {
        const node = this.nodes[ev.to] as SimNode;
        if (node.life === undefined || ev.epoch !== node.epoch) return;
        if (ev.stream !== undefined && !this.net.streamCurrent(ev.from, ev.to, ev.stream)) return;
        if (node.paused(this.now)) return void node.inbox.push(() => this.deliver(node, ev));
        return this.deliver(node, ev);
      }
      case 'wake': {
        const node = this.nodes[ev.node] as SimNode;
        const e = node.engine;
        if (e === undefined || ev.epoch !== node.epoch || node.wakeAt !== this.now) return;
        node.wakeAt = Infinity;
        if (node.paused(this.now)) return;
        return this.dispatch(node, e.tick(this.now));
      }
      case 'commit': {
        const node = this.nodes[ev.node] as SimNode;
        if (ev.epoch !== node.epoch) return;
        if (node.paused(this.now)) return void node.inbox.push(() => this.storage.finish(node));
        return this.storage.finish(node);
      }
      case 'action':
        return ev.run();
      case 'write':
        this.clientWrite();
        if (this.now < this.faultEndMs) this.queue.push(this.now + this.opts.writeEveryMs * (0.5 + this.random.next()), { k: 'write' });
        return;
      case 'check':
        if (this.convergedAt === undefined && replicasIdentical(this.nodes)) this.convergedAt = this.now;
        else this.queue.push(this.now + 250, { k: 'check' });
        return;
    }
  }

  private deliver(node: SimNode, ev: Extract<Ev, { k: 'deliver' }>): void {
    const engine = node.engine;
    if (engine === undefined) return;
    this.trace?.update(`${this.now.toFixed(3)} ${ev.from}>${ev.to} ${ev.bytes.length}\n`);
    let raw: unknown;
    try {
      raw = decodeMessage(ev.bytes);
    } catch {
      return;
    }
    this.dispatch(node, engine.receive((this.nodes[ev.from] as SimNode).endpoint, raw, this.now));
  }

  /**
   * A client write on node `i` now; returns its records. They count as acknowledged once the
   * batch holding them commits; the eager push leaves when the engine flushes.
   */
  write(i: number, op: WriteOp): StoreRecord[] {
    const node = this.nodes[i] as SimNode;
    const engine = node.engine;
    if (engine === undefined) throw new Error(`node ${i} is not running`);
    const records = this.storage.write(() => engine.write(op, this.now).records);
    // As in the runtime, a write does not arm the engine's timer: its next interaction does (and
    // if that comes before the commit, the tick pushes early: see pushedBeforeCommit).
    this.dispatch(node, [], false);
    return [...records];
  }

  /** Acknowledged writes so far. */
  get acked(): readonly StoreRecord[] {
    return this.oracle.acked;
  }

  /** Boots every node, a few ms apart, as a mesh coming up. */
  startAll(): void {
    for (let i = 0; i < this.nodes.length; i++) this.at(this.now + i * 7, () => this.boot(i));
  }

  private clientWrite(): void {
    const up = this.nodes.filter((n) => n.life !== undefined && !n.paused(this.now));
    if (up.length === 0) return;
    const node = up[randomInt(this.random, up.length)] as SimNode;
    this.write(node.index, randomOp(this.random, this.opts, node.index, this.now));
  }

  /** Runs events until virtual time `untilMs` (or until `stop` says so). */
  runUntil(untilMs: number, stop?: () => boolean): void {
    while (this.queue.peekTime() <= untilMs) {
      const next = this.queue.pop();
      if (next === undefined) break;
      this.now = next.time;
      this.handle(next.item);
      if (this.touched.size > 0) this.afterStep();
      if (stop?.()) return;
    }
    this.now = Math.max(this.now, untilMs);
  }

  private afterStep(): void {
    if (this.opts.checkInvariants) for (const node of this.touched) this.invariants.add(node, coreProblems(node, this.storage.changed.has(node)), this.now);
    this.touched.clear();
    this.storage.changed.clear();
  }

  /** Schedules `run` at virtual time `ms`. */
  at(ms: number, run: () => void): void {
    this.queue.push(ms, { k: 'action', run });
  }

  /** Queues the convergence probe (from healing on). */
  watchConvergence(fromMs: number): void {
    this.queue.push(fromMs, { k: 'check' });
  }

  /** Starts the random client writes at `fromMs` (they stop at the end of the fault window). */
  startWrites(fromMs: number): void {
    this.queue.push(fromMs, { k: 'write' });
  }

  /** Plays the whole scenario and checks the outcome (see play). */
  run(): Outcome {
    return play(this);
  }

  /** Hash of every delivery so far and of each replica's final digest. */
  traceHash(): string {
    const h = createHash('sha256');
    h.update(this.trace ? this.trace.copy().digest('hex') : '');
    for (const n of this.nodes) h.update(JSON.stringify(n.store?.digest() ?? null));
    return h.digest('hex').slice(0, 16);
  }
}
