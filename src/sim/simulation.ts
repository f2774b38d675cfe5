import { createHash, type Hash } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { newNodeId, type NodeId } from '../core/ids.ts';
import { SeededRandom, randomInt } from '../core/random.ts';
import { Store, type StoreRecord } from '../store/index.ts';
import { Engine, type EngineEvent, type Outbound } from '../sync/engine.ts';
import { resolveSyncConfig, type SyncConfig } from '../sync/config.ts';
import { decodeMessage, encodeMessage } from '../sync/wire.ts';
import { EventQueue } from './event-queue.ts';
import { SimNetwork, type LinkConditions } from './network.ts';
import type { FaultControl, Scenario } from './scenarios.ts';
import { checkOutcome, membershipCorrect, type Outcome } from './checkers.ts';

/** Parameters of one simulated run. */
export interface SimOptions {
  readonly nodes: number;
  readonly seed: number;
  readonly scenario: Scenario;
  /** Sync settings for every node; defaults to the lan preset. */
  readonly sync?: Partial<SyncConfig>;
  /** Virtual ms before faults start (mesh forms, writes begin). */
  readonly warmupMs?: number;
  /** Virtual ms of the fault window. */
  readonly faultMs?: number;
  /** Longest virtual time allowed after healing for the mesh to converge. */
  readonly settleMaxMs?: number;
  /** Mean virtual ms between client writes (anywhere in the mesh) until healing. */
  readonly writeEveryMs?: number;
  /** Distinct objects the workload writes to. */
  readonly objects?: number;
  /** Record a trace hash over every delivery (on by default). */
  readonly trace?: boolean;
  /** How many of the first nodes every node is given as seeds (default 3). */
  readonly seedCount?: number;
  /** Issue random client writes until healing (on by default). */
  readonly clientWrites?: boolean;
  /** Sees every engine event as it happens (benchmarks measure with it). */
  readonly onEvent?: (node: number, event: EngineEvent, nowMs: number) => void;
}

type Ev =
  | { k: 'deliver'; from: number; to: number; bytes: Uint8Array; epoch: number }
  | { k: 'wake'; node: number; epoch: number }
  | { k: 'action'; run: () => void }
  | { k: 'write' }
  | { k: 'check' };

interface SimNode {
  readonly index: number;
  readonly nodeId: NodeId;
  readonly address: string;
  readonly port: number;
  readonly store: Store;
  readonly clock: Clock;
  skewMs: number;
  engine: Engine | undefined;
  generation: number;
  /** Bumped at every crash/restart: events of an earlier life are ignored. */
  epoch: number;
  pausedUntil: number;
  /** Deliveries that arrived while paused, handled at resume. */
  inbox: Ev[];
  wakeAt: number;
  everCrashed: boolean;
  left: boolean;
}

const PORT = 7946;

/**
 * Runs N real Engines over a simulated network in virtual time. Everything random comes from one
 * seeded PRNG, so a seed replays the same run, message for message (the trace hash proves it).
 */
export class Simulation {
  readonly opts: Required<Omit<SimOptions, 'sync' | 'onEvent'>> & { sync: SyncConfig };
  private readonly onEvent: SimOptions['onEvent'];
  readonly random: SeededRandom;
  readonly net: SimNetwork;
  readonly nodes: SimNode[] = [];
  private readonly queue = new EventQueue<Ev>();
  private readonly byAddress = new Map<string, number>();
  private readonly trace: Hash | undefined;
  now = 0;
  messages = 0;
  bytes = 0;
  readonly acked: StoreRecord[] = [];
  /** 'dead' declarations about nodes that were up, unpaused and never crashed at that moment. */
  falseDeaths = 0;
  readonly deadDeclarations: { observer: number; subject: NodeId; atMs: number }[] = [];
  private convergedAt: number | undefined;
  readonly faultStartMs: number;
  readonly faultEndMs: number;

  constructor(options: SimOptions) {
    this.opts = {
      warmupMs: 10_000,
      faultMs: 30_000,
      settleMaxMs: 120_000,
      writeEveryMs: 100,
      objects: 24,
      trace: true,
      clientWrites: true,
      seedCount: 3,
      ...options,
      sync: resolveSyncConfig('lan', options.sync ?? {}),
    };
    this.onEvent = options.onEvent;
    this.random = new SeededRandom(options.seed);
    this.net = new SimNetwork(options.nodes, this.random.fork());
    this.trace = this.opts.trace ? createHash('sha256') : undefined;
    this.faultStartMs = this.opts.warmupMs;
    this.faultEndMs = this.opts.warmupMs + this.opts.faultMs;
    const idRandom = this.random.fork();
    for (let i = 0; i < options.nodes; i++) {
      const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      const node: SimNode = {
        index: i,
        nodeId: newNodeId(idRandom),
        address,
        port: PORT,
        skewMs: 0,
        clock: { now: () => 1_700_000_000_000 + this.now + node.skewMs },
        store: undefined as unknown as Store,
        engine: undefined,
        generation: 0,
        epoch: 0,
        pausedUntil: 0,
        inbox: [],
        wakeAt: Infinity,
        everCrashed: false,
        left: false,
      };
      (node as { store: Store }).store = new Store({ nodeId: node.nodeId, clock: node.clock });
      this.nodes.push(node);
      this.byAddress.set(`${address}:${PORT}`, i);
    }
  }

  /** The addresses every node starts with: the first three nodes, as ESPGossip's shared seed list. */
  private seeds(): string[] {
    return this.nodes.slice(0, Math.min(this.opts.seedCount, this.nodes.length)).map((n) => `${n.address}:${n.port}`);
  }

  // ---- node lifecycle -----------------------------------------------------------------

  /** Starts (or restarts, storage kept, generation +1) node `i`. */
  boot(i: number): void {
    const node = this.nodes[i] as SimNode;
    node.generation++;
    node.epoch++;
    node.left = false;
    node.wakeAt = Infinity;
    const engine = new Engine({
      nodeId: node.nodeId,
      name: `node-${i}`,
      mesh: 'sim',
      generation: node.generation,
      bootNonce: newNodeId(this.random),
      address: node.address,
      port: node.port,
      seeds: this.seeds(),
      store: node.store,
      clock: node.clock,
      random: this.random.fork(),
      config: this.opts.sync,
      now: this.now,
      ...(node.generation > 1 ? { lastActiveMs: node.clock.now() } : {}),
    });
    node.engine = engine;
    this.dispatch(node, engine.start(this.now));
  }

  /** Stops node `i` at once: nothing is flushed, storage is kept. */
  crash(i: number): void {
    const node = this.nodes[i] as SimNode;
    if (node.engine === undefined) return;
    node.engine = undefined;
    node.epoch++;
    node.everCrashed = true;
    node.inbox = [];
  }

  /** Node `i` leaves gracefully, then stops. */
  leave(i: number): void {
    const node = this.nodes[i] as SimNode;
    if (node.engine === undefined) return;
    this.dispatch(node, node.engine.leave(this.now));
    node.left = true;
    node.engine = undefined;
    node.epoch++;
    node.everCrashed = true;
  }

  /** Whether node `i` is running. */
  isUp(i: number): boolean {
    return (this.nodes[i] as SimNode).engine !== undefined;
  }

  // ---- event loop ---------------------------------------------------------------------

  private dispatch(node: SimNode, out: readonly Outbound[]): void {
    for (const o of out) {
      const to = this.byAddress.get(o.to);
      if (to === undefined || to === node.index) continue;
      const bytes = encodeMessage(o.message);
      this.messages++;
      this.bytes += bytes.length;
      for (const d of this.net.route(node.index, to, o.channel, this.now)) {
        this.queue.push(d.atMs, { k: 'deliver', from: node.index, to, bytes, epoch: (this.nodes[to] as SimNode).epoch });
      }
    }
    this.events(node);
    this.reschedule(node);
  }

  private reschedule(node: SimNode): void {
    const e = node.engine;
    if (e === undefined) return;
    // At least 1 ms ahead: a tick must not be rescheduled for the instant it just handled.
    const at = Math.max(this.now + 1, e.nextWakeAt());
    if (at < node.wakeAt || node.wakeAt < this.now) {
      node.wakeAt = at;
      if (Number.isFinite(at)) this.queue.push(at, { k: 'wake', node: node.index, epoch: node.epoch });
    }
  }

  private events(node: SimNode): void {
    const e = node.engine;
    if (e === undefined) return;
    for (const ev of e.takeEvents()) this.observe(node, ev);
  }

  private observe(node: SimNode, ev: EngineEvent): void {
    this.onEvent?.(node.index, ev, this.now);
    if (ev.type !== 'member' || ev.status !== 'dead') return;
    this.deadDeclarations.push({ observer: node.index, subject: ev.nodeId, atMs: this.now });
    const subject = this.nodes.find((n) => n.nodeId === ev.nodeId);
    if (subject !== undefined && subject.engine !== undefined && !subject.everCrashed && subject.pausedUntil <= this.now) this.falseDeaths++;
  }

  private handle(ev: Ev): void {
    switch (ev.k) {
      case 'deliver': {
        const node = this.nodes[ev.to] as SimNode;
        if (node.engine === undefined || ev.epoch !== node.epoch) return;
        if (node.pausedUntil > this.now) {
          node.inbox.push(ev);
          return;
        }
        this.trace?.update(`${this.now.toFixed(3)} ${ev.from}>${ev.to} ${ev.bytes.length}\n`);
        const from = this.nodes[ev.from] as SimNode;
        let raw: unknown;
        try {
          raw = decodeMessage(ev.bytes);
        } catch {
          return;
        }
        this.dispatch(node, node.engine.receive(`${from.address}:${from.port}`, raw, this.now));
        return;
      }
      case 'wake': {
        const node = this.nodes[ev.node] as SimNode;
        if (node.engine === undefined || ev.epoch !== node.epoch || node.wakeAt !== this.now) return;
        node.wakeAt = Infinity;
        if (node.pausedUntil > this.now) return;
        this.dispatch(node, node.engine.tick(this.now));
        return;
      }
      case 'action':
        ev.run();
        return;
      case 'write':
        this.clientWrite();
        if (this.now < this.faultEndMs) this.queue.push(this.now + this.opts.writeEveryMs * (0.5 + this.random.next()), { k: 'write' });
        return;
      case 'check':
        if (this.convergedAt === undefined && this.replicasIdentical()) this.convergedAt = this.now;
        else this.queue.push(this.now + 250, { k: 'check' });
        return;
    }
  }

  /** A client write on node `i` now, pushed at once; returns the acknowledged records. */
  write(i: number, op: Parameters<Engine['write']>[0]): StoreRecord[] {
    const node = this.nodes[i] as SimNode;
    const engine = node.engine;
    if (engine === undefined) throw new Error(`node ${i} is not running`);
    const res = engine.write(op, this.now);
    this.acked.push(...res.records);
    this.dispatch(node, engine.flush(this.now));
    return res.records;
  }

  /** Boots every node, a few ms apart, as a mesh coming up. */
  startAll(): void {
    for (let i = 0; i < this.nodes.length; i++) this.at(this.now + i * 7, () => this.boot(i));
  }

  private clientWrite(): void {
    const up = this.nodes.filter((n) => n.engine !== undefined && n.pausedUntil <= this.now);
    if (up.length === 0) return;
    const node = up[randomInt(this.random, up.length)] as SimNode;
    const id = `obj-${randomInt(this.random, this.opts.objects)}`;
    const field = ['on', 'level', 'location'][randomInt(this.random, 3)] as string;
    const r = this.random.next();
    const value = { v: randomInt(this.random, 1000), by: node.index, at: Math.round(this.now) };
    const op =
      r < 0.7 ? ({ kind: 'patch', id, fields: { [field]: value } } as const)
      : r < 0.8 ? ({ kind: 'put', id, fields: { [field]: value } } as const)
      : r < 0.92 ? ({ kind: 'deleteField', id, field } as const)
      : ({ kind: 'deleteObject', id } as const);
    this.write(node.index, op);
  }

  /** True when every running node holds exactly the same records. */
  replicasIdentical(): boolean {
    const up = this.nodes.filter((n) => n.engine !== undefined);
    if (up.length === 0) return true;
    const first = up[0] as SimNode;
    const d0 = JSON.stringify(first.store.digest());
    const s0 = JSON.stringify(first.store.stats());
    return up.every((n) => JSON.stringify(n.store.digest()) === d0 && JSON.stringify(n.store.stats()) === s0);
  }

  /** Runs events until virtual time `untilMs` (or until `stop` says so). */
  runUntil(untilMs: number, stop?: () => boolean): void {
    while (this.queue.peekTime() <= untilMs) {
      const next = this.queue.pop();
      if (next === undefined) break;
      this.now = next.time;
      this.handle(next.item);
      if (stop?.()) return;
    }
    this.now = Math.max(this.now, untilMs);
  }

  /** Schedules `run` at virtual time `ms`. */
  at(ms: number, run: () => void): void {
    this.queue.push(ms, { k: 'action', run });
  }

  private faultControl(): FaultControl {
    return {
      n: this.nodes.length,
      random: this.random.fork(),
      faultStartMs: this.faultStartMs,
      faultEndMs: this.faultEndMs,
      at: (ms, action) => this.at(ms, action),
      setConditions: (c: Partial<LinkConditions>) => {
        this.net.conditions = { ...this.net.conditions, ...c };
      },
      split: (groups, opts = {}) => {
        groups.forEach((g, s) => g.forEach((i) => this.net.setSide(i, s + 1)));
        for (let a = 1; a <= groups.length; a++) {
          for (let b = 1; b <= groups.length; b++) if (a !== b && (!opts.oneWay || a < b)) this.net.block(a, b);
        }
        // Bridges stay on side 0, which nothing blocks.
        for (const i of opts.bridges ?? []) this.net.setSide(i, 0);
      },
      heal: () => {
        this.net.heal();
        this.net.conditions = { ...this.net.conditions, loss: 0, duplicate: 0, replay: 0, latency: { baseMs: 0.5, jitterMs: 1, distribution: 'uniform' } };
      },
      crash: (i) => this.crash(i),
      restart: (i) => this.isUp(i) || this.boot(i),
      leave: (i) => this.leave(i),
      pause: (i, ms) => this.pause(i, ms),
      jumpClock: (i, deltaMs) => {
        (this.nodes[i] as SimNode).skewMs += deltaMs;
      },
      isUp: (i) => this.isUp(i),
    };
  }

  private pause(i: number, ms: number): void {
    const node = this.nodes[i] as SimNode;
    if (node.engine === undefined) return;
    const epoch = node.epoch;
    node.pausedUntil = this.now + ms;
    this.at(this.now + ms, () => {
      if (node.epoch !== epoch) return;
      const inbox = node.inbox;
      node.inbox = [];
      node.wakeAt = Infinity;
      for (const ev of inbox) this.handle(ev);
      this.reschedule(node);
    });
  }

  /** Plays the whole scenario and checks the outcome. */
  run(): Outcome {
    const wall = performance.now();
    this.startAll();
    if (this.opts.clientWrites) this.queue.push(1000, { k: 'write' });
    this.opts.scenario.schedule(this.faultControl());
    this.runUntil(this.faultEndMs);
    // Heal: from here on, no faults and no new writes; wait for convergence and membership.
    this.at(this.faultEndMs, () => this.faultControl().heal());
    this.queue.push(this.faultEndMs + 1, { k: 'check' });
    const deadline = this.faultEndMs + this.opts.settleMaxMs;
    const settleStep = 1000;
    let t = this.faultEndMs;
    while (t < deadline) {
      t += settleStep;
      this.runUntil(t);
      if (this.convergedAt !== undefined && membershipCorrect(this)) break;
    }
    return checkOutcome(this, { convergedAt: this.convergedAt, wallMs: performance.now() - wall });
  }

  /** Hash of every delivery so far and of each replica's final digest. */
  traceHash(): string {
    const h = createHash('sha256');
    h.update(this.trace ? this.trace.copy().digest('hex') : '');
    for (const n of this.nodes) h.update(JSON.stringify(n.store.digest()));
    return h.digest('hex').slice(0, 16);
  }
}
