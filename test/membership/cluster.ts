import type { Clock } from '../../src/core/clock.ts';
import { newNodeId, type NodeId } from '../../src/core/ids.ts';
import { SeededRandom } from '../../src/core/random.ts';
import {
  Membership,
  type MemberRecord,
  type MemberStatus,
  type MembershipConfig,
  type MembershipOutput,
  type ProbeMessage,
} from '../../src/membership/index.ts';

// A tiny in-test network for Membership instances, in virtual time, modelled on what the
// sync layer does: a mesh link opens with HELLO both ways (the first message delivered
// between two nodes opens it), and every probe message carries the sender's piggyback, applied by the
// receiver before the message itself. Links can be cut one way or both, nodes crashed or
// stalled (a pause: what they receive waits until they wake).

/** One output as an observer emitted it, with the virtual time. */
export interface Observed {
  readonly at: number;
  readonly observer: NodeId;
  readonly output: MembershipOutput;
}

interface InFlight {
  readonly deliverAt: number;
  readonly seq: number;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly message: ProbeMessage;
  readonly gossip: readonly MemberRecord[];
}

/** Wall-clock time at virtual time 0 (a realistic epoch, as a real node's clock reads). */
export const WALL_T0 = 1_700_000_000_000;

/** A deterministic network of Membership instances. */
export class Cluster {
  now = 0;
  /** The nodes' wall clock: WALL_T0 plus virtual time. */
  readonly clock: Clock = { now: () => WALL_T0 + this.now };
  readonly ids: NodeId[] = [];
  readonly log: Observed[] = [];
  /** When each mesh link opened (a HELLO exchange). */
  readonly links: { at: number; a: NodeId; b: NodeId }[] = [];
  readonly random: SeededRandom;
  readonly #nodes = new Map<NodeId, Membership>();
  readonly #nonces = new Map<NodeId, string>();
  readonly #down = new Set<NodeId>();
  readonly #cut = new Set<string>();
  readonly #open = new Set<string>();
  readonly #stalledUntil = new Map<NodeId, number>();
  #inFlight: InFlight[] = [];
  #seq = 0;

  constructor(
    readonly config: MembershipConfig,
    seed: number,
    n = 0,
  ) {
    this.random = new SeededRandom(seed);
    for (let i = 0; i < n; i++) this.add();
  }

  /** Starts a new node (or restarts `nodeId` at `generation`). */
  add(nodeId: NodeId = newNodeId(this.random), generation = 1): NodeId {
    const i = this.ids.indexOf(nodeId) >= 0 ? this.ids.indexOf(nodeId) : this.ids.length;
    const self = { nodeId, name: `node-${i}`, generation, addresses: [`10.0.0.${i + 1}`], port: 7400, capabilities: [], tags: {} };
    const bootNonce = `boot-${this.random.uint32().toString(16)}`;
    this.#nodes.set(nodeId, new Membership({ self, bootNonce, config: this.config, random: this.random.fork(), now: this.now, clock: this.clock }));
    this.#nonces.set(nodeId, bootNonce);
    this.#down.delete(nodeId);
    this.#closeLinks(nodeId);
    if (!this.ids.includes(nodeId)) this.ids.push(nodeId);
    return nodeId;
  }

  /** The Membership of `id`. */
  node(id: NodeId): Membership {
    const m = this.#nodes.get(id);
    if (m === undefined) throw new Error(`no node ${id}`);
    return m;
  }

  /** The boot nonce of `id`'s current process. */
  nonce(id: NodeId): string {
    return this.#nonces.get(id) ?? '';
  }

  /**
   * Opening a mesh link, as the sync layer does it: HELLO both ways, then one anti-entropy
   * round (each side sends the records the other's digest lacks).
   */
  connect(a: NodeId, b: NodeId, antiEntropy = true): void {
    this.#hello(a, b);
    if (antiEntropy) this.antiEntropy(a, b);
  }

  #hello(a: NodeId, b: NodeId): void {
    const [ma, mb] = [this.node(a), this.node(b)];
    this.#open.add(pair(a, b));
    this.links.push({ at: this.now, a, b });
    this.#record(b, mb.hello(ma.self(), this.nonce(a), this.now));
    this.#record(a, ma.hello(mb.self(), this.nonce(b), this.now));
  }

  #closeLinks(id: NodeId): void {
    for (const key of [...this.#open]) if (key.includes(id)) this.#open.delete(key);
  }

  /** One anti-entropy round between `a` and `b`: digests both ways, then the records each lacks. */
  antiEntropy(a: NodeId, b: NodeId): void {
    const [ma, mb] = [this.node(a), this.node(b)];
    const [da, db] = [ma.digest(), mb.digest()];
    this.#record(b, mb.applyGossip(ma.recordsFor(db), this.now, a));
    this.#record(a, ma.applyGossip(mb.recordsFor(da), this.now, b));
  }

  /**
   * A sync round, as the sync layer runs one every syncIntervalMs: every live node exchanges
   * digests with one random member it holds alive, over a working link.
   */
  syncRound(): void {
    for (const a of this.live()) {
      if (this.#stalled(a)) continue;
      const peers = this.node(a).aliveNodeIds().filter((b) => !this.#down.has(b) && !this.#stalled(b) && !this.#cut.has(`${a}>${b}`) && !this.#cut.has(`${b}>${a}`));
      const b = peers[Math.floor(this.random.next() * peers.length)];
      if (b !== undefined) this.antiEntropy(a, b);
    }
  }

  /** Every other node connects to `seed` (with or without the anti-entropy round). */
  joinAll(antiEntropy = true, seed: NodeId = this.ids[0] as NodeId): void {
    for (const id of this.ids) if (id !== seed) this.connect(id, seed, antiEntropy);
  }

  /** Crashes `id`: it neither ticks, sends nor receives. */
  crash(id: NodeId): void {
    this.#down.add(id);
    this.#closeLinks(id);
  }

  /** Cuts (or, with `up`, restores) the link between `a` and `b`, both directions. */
  link(a: NodeId, b: NodeId, up: boolean): void {
    for (const key of [`${a}>${b}`, `${b}>${a}`]) {
      if (up) this.#cut.delete(key);
      else this.#cut.add(key);
    }
  }

  /** Cuts (or restores) every link of `id`. */
  isolate(id: NodeId, isolated = true): void {
    for (const other of this.ids) if (other !== id) this.link(id, other, !isolated);
  }

  /** Freezes `id` for `ms` (a GC pause, a busy CPU): it does not tick, and what it receives waits until it wakes. */
  stall(id: NodeId, ms: number): void {
    this.#stalledUntil.set(id, this.now + ms);
  }

  #stalled(id: NodeId): boolean {
    return (this.#stalledUntil.get(id) ?? 0) > this.now;
  }

  /** Advances virtual time by `ms` in steps of `dt`, delivering due messages and ticking live nodes. */
  run(ms: number, dt = 10, until?: () => boolean): number {
    const end = this.now + ms;
    while (this.now < end) {
      this.now = Math.min(end, this.now + dt);
      this.#deliverDue();
      for (const id of this.ids) if (!this.#down.has(id) && !this.#stalled(id)) this.#record(id, this.node(id).tick(this.now));
      this.#deliverDue();
      if (until?.()) break;
    }
    return this.now;
  }

  /** Live nodes. */
  live(): NodeId[] {
    return this.ids.filter((id) => !this.#down.has(id));
  }

  /** True when every live node holds every other live node as alive. */
  converged(): boolean {
    const live = this.live();
    return live.every((a) => live.every((b) => a === b || this.node(a).get(b)?.status === 'alive'));
  }

  /** The status transitions `observer` reported about `subject`, in order. */
  transitions(observer: NodeId, subject: NodeId, fromLogIndex = 0): { at: number; status: MemberStatus | 'removed' }[] {
    const out: { at: number; status: MemberStatus | 'removed' }[] = [];
    for (const { at, observer: o, output } of this.log.slice(fromLogIndex)) {
      if (o === observer && output.type === 'status' && output.nodeId === subject) out.push({ at, status: output.status });
    }
    return out;
  }

  /** Sends a node's outputs on and keeps them in the log; every call's result passes the invariant check first. */
  #record(observer: NodeId, outputs: readonly MembershipOutput[]): void {
    const problems = this.node(observer).checkInvariants();
    if (problems.length > 0) throw new Error(`invariants of ${observer} violated at ${this.now}: ${problems.join('; ')}`);
    for (const output of outputs) {
      this.log.push({ at: this.now, observer, output });
      if (output.type === 'send') this.#send(observer, output.to, output.message);
    }
  }

  #send(from: NodeId, to: NodeId, message: ProbeMessage): void {
    if (this.#down.has(from)) return;
    // Taken at send time, whether or not the link works: the sender cannot know.
    const gossip = this.node(from).piggyback(this.config.gossipMaxPerMessage);
    this.#inFlight.push({ deliverAt: this.now, seq: this.#seq++, from, to, message, gossip });
  }

  #deliverDue(): void {
    for (;;) {
      const isDue = (m: InFlight): boolean => m.deliverAt <= this.now && !this.#stalled(m.to);
      const due = this.#inFlight.filter(isDue);
      if (due.length === 0) return;
      this.#inFlight = this.#inFlight.filter((m) => !isDue(m));
      due.sort((a, b) => a.deliverAt - b.deliverAt || a.seq - b.seq);
      for (const m of due) this.#deliver(m);
    }
  }

  #deliver(m: InFlight): void {
    if (this.#down.has(m.to) || this.#down.has(m.from) || this.#cut.has(`${m.from}>${m.to}`)) return;
    // The first message between two nodes opens their link: HELLO both ways (needs both directions).
    if (!this.#open.has(pair(m.from, m.to)) && !this.#cut.has(`${m.to}>${m.from}`)) this.#hello(m.from, m.to);
    const dest = this.node(m.to);
    this.#record(m.to, dest.applyGossip(m.gossip, this.now, m.from));
    this.#record(m.to, dest.handleProbe(m.from, m.message, this.now));
  }
}

const pair = (a: NodeId, b: NodeId): string => (a < b ? `${a}|${b}` : `${b}|${a}`);
