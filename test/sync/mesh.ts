import { ManualClock } from '../../src/core/clock.ts';
import type { NodeId } from '../../src/core/ids.ts';
import { SeededRandom } from '../../src/core/random.ts';
import { Store } from '../../src/store/store.ts';
import { resolveSyncConfig, type SyncConfig } from '../../src/sync/config.ts';
import { Engine, type EngineEvent, type EngineInit, type Outbound } from '../../src/sync/engine.ts';
import { MESSAGE_TYPE_NAMES } from '../../src/sync/messages.ts';
import { decodeMessage, encodeMessage } from '../../src/sync/wire.ts';

// A tiny in-memory router for a handful of Engines in virtual time: messages go through the
// real wire codec and are delivered in FIFO order with zero latency; `run` advances the
// shared ManualClock to each engine's nextWakeAt. A `filter` drops chosen messages.

/** Epoch of the virtual clock (a realistic wall time, so HLC stamps look normal). */
export const T0 = 1_700_000_000_000;

/** The node id of test node `i`. */
export function nodeIdOf(i: number): NodeId {
  return (i + 1).toString(16).padStart(32, 'a') as NodeId;
}

/** One message in flight. */
export interface Flight {
  readonly from: string;
  readonly out: Outbound;
}

/** One node of the test mesh. */
export interface TestNode {
  readonly i: number;
  address: string;
  readonly engine: Engine;
  readonly events: EngineEvent[];
  up: boolean;
}

/** Options of one node. */
export type NodeOptions = Partial<Omit<EngineInit, 'nodeId' | 'clock' | 'random' | 'config'>> & { config?: Partial<SyncConfig> };

/** Engines wired together through an in-test router. */
export class TestMesh {
  readonly clock = new ManualClock(T0);
  readonly nodes: TestNode[] = [];
  readonly #byAddress = new Map<string, TestNode>();
  readonly queue: Flight[] = [];
  /** Return false to drop a message. */
  filter: (f: Flight) => boolean = () => true;
  /** Delivered messages by type name. */
  readonly delivered = new Map<string, number>();

  constructor(
    readonly config: Partial<SyncConfig> = {},
    readonly seed = 1,
  ) {}

  /** Virtual time of the `now` arguments: 0-based, unlike the engines' wall clock (as in the simulator). */
  get now(): number {
    return this.clock.now() - T0;
  }

  /** Adds node `this.nodes.length` (seeded with node 0 unless told), not yet started. */
  add(options: NodeOptions = {}): TestNode {
    const i = this.nodes.length;
    const address = `10.0.0.${i + 1}`;
    const nodeId = nodeIdOf(i);
    const engine = new Engine({
      nodeId,
      name: `n${i}`,
      mesh: 'test',
      generation: 1,
      bootNonce: `boot-${i}`,
      address,
      port: 7000,
      seeds: ['10.0.0.1:7000'],
      store: new Store({ nodeId, clock: this.clock }),
      ...options,
      now: this.now,
      clock: this.clock,
      random: new SeededRandom(this.seed * 1000 + i),
      config: resolveSyncConfig('local', { ...this.config, ...options.config }),
    });
    const node: TestNode = { i, address: `${address}:${options.port ?? 7000}`, engine, events: [], up: true };
    this.nodes.push(node);
    this.#byAddress.set(node.address, node);
    return node;
  }

  /** Adds and starts `n` nodes seeded with node 0, then runs `ms` of virtual time. */
  static started(n: number, config: Partial<SyncConfig> = {}, ms = 3000, seed = 1): TestMesh {
    const mesh = new TestMesh(config, seed);
    for (let i = 0; i < n; i++) mesh.start(mesh.add());
    mesh.run(ms);
    return mesh;
  }

  /** Starts a node: its HELLOs go into the queue. */
  start(node: TestNode): void {
    this.send(node, node.engine.start(this.now));
  }

  /** Queues what a node's call returned, and collects its events; its membership invariants must hold after every call. */
  send(node: TestNode, outs: readonly Outbound[]): void {
    const problems = node.engine.membership.checkInvariants();
    if (problems.length > 0) throw new Error(`membership invariants of node ${node.i} violated at ${this.now}: ${problems.join('; ')}`);
    for (const out of outs) this.queue.push({ from: node.address, out });
    node.events.push(...node.engine.takeEvents());
  }

  /** Delivers the oldest queued message; returns it, or undefined when the queue is empty. */
  step(): Flight | undefined {
    const f = this.queue.shift();
    if (f === undefined) return undefined;
    const to = this.#byAddress.get(f.out.to);
    const src = this.#byAddress.get(f.from);
    if (to === undefined || !to.up || src === undefined || !src.up || !this.filter(f)) return f;
    const name = MESSAGE_TYPE_NAMES[f.out.message.t];
    this.delivered.set(name, (this.delivered.get(name) ?? 0) + 1);
    const raw = decodeMessage(encodeMessage(f.out.message));
    this.send(to, to.engine.receive(f.from, raw, this.now));
    return f;
  }

  /** Delivers until the queue is empty (bounded, to catch message storms). */
  deliverAll(max = 1_000_000): number {
    let n = 0;
    while (this.queue.length > 0) {
      if (++n > max) throw new Error(`more than ${max} deliveries without quiescence`);
      this.step();
    }
    return n;
  }

  /** Advances virtual time by `ms`, ticking each engine at its nextWakeAt and delivering everything in between. */
  run(ms: number, until?: () => boolean): number {
    const end = this.now + ms;
    this.deliverAll();
    for (;;) {
      if (until?.() === true) return this.now;
      const live = this.nodes.filter((n) => n.up);
      const next = Math.min(...live.map((n) => Math.max(this.now + 1, n.engine.nextWakeAt())));
      if (!(next <= end)) break;
      this.clock.set(T0 + next);
      for (const n of live) if (n.engine.nextWakeAt() <= this.now) this.send(n, n.engine.tick(this.now));
      this.deliverAll();
    }
    this.clock.set(T0 + end);
    return this.now;
  }

  /** Moves a node to a new transport address (the router forgets the old one). */
  move(node: TestNode, host: string, port: number): void {
    this.#byAddress.delete(node.address);
    node.address = `${host}:${port}`;
    this.#byAddress.set(node.address, node);
  }

  /** Replaces a crashed node by a new process on the same store (generation + 1) and starts it. */
  restart(node: TestNode, options: NodeOptions = {}): TestNode {
    const old = node.engine;
    const engine = new Engine({
      nodeId: old.nodeId,
      name: `n${node.i}`,
      mesh: 'test',
      generation: old.membership.self().generation + 1,
      bootNonce: `boot-${node.i}-${old.membership.self().generation + 1}`,
      address: node.address.split(':')[0] as string,
      port: Number(node.address.split(':')[1]),
      seeds: ['10.0.0.1:7000'],
      store: old.store,
      ...options,
      now: this.now,
      clock: this.clock,
      random: new SeededRandom(this.seed * 1000 + node.i + 500),
      config: resolveSyncConfig('local', { ...this.config, ...options.config }),
    });
    const fresh: TestNode = { i: node.i, address: node.address, engine, events: [], up: true };
    this.nodes[node.i] = fresh;
    this.#byAddress.set(fresh.address, fresh);
    this.start(fresh);
    return fresh;
  }

  /** Silences a node: it is neither ticked nor delivered to, and what it sent is dropped. */
  crash(node: TestNode): void {
    node.up = false;
  }

  /** The running nodes. */
  live(): TestNode[] {
    return this.nodes.filter((n) => n.up);
  }

  /** Whether every running node holds the same digest and stats. */
  converged(): boolean {
    const live = this.live();
    const first = live[0];
    if (first === undefined) return true;
    const d = JSON.stringify(first.engine.store.digest());
    const s = JSON.stringify(first.engine.store.stats());
    return live.every((n) => JSON.stringify(n.engine.store.digest()) === d && JSON.stringify(n.engine.store.stats()) === s);
  }

  /** Whether every running node sees every other running node alive. */
  allAlive(): boolean {
    const live = this.live();
    return live.every((a) => live.every((b) => a === b || a.engine.membership.get(b.engine.nodeId)?.status === 'alive'));
  }
}
