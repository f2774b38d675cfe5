import type { Random } from '../core/random.ts';

/** How long a message takes on a link. */
export interface LatencyModel {
  /** Fixed part, ms. */
  readonly baseMs: number;
  /** Random part, ms: uniform in [0, jitterMs), or exponential with that mean. */
  readonly jitterMs: number;
  readonly distribution: 'uniform' | 'exponential';
}

/** Link conditions; packets suffer loss, duplication and reordering, streams latency and resets. */
export interface LinkConditions {
  readonly latency: LatencyModel;
  /** Probability a packet is lost. */
  readonly loss: number;
  /** Probability a packet is delivered twice. */
  readonly duplicate: number;
  /** Probability a delivered packet is kept and replayed much later. */
  readonly replay: number;
  /** Probability, per stream message, that the pair's stream is reset as it is sent (see SimNetwork.resetStream). */
  readonly streamReset: number;
}

/** A LAN: about a millisecond, nothing lost. */
export const LAN_LINK: LinkConditions = { latency: { baseMs: 0.5, jitterMs: 1, distribution: 'uniform' }, loss: 0, duplicate: 0, replay: 0, streamReset: 0 };

/** One scheduled delivery decided by the network. */
export interface Delivery {
  readonly atMs: number;
  readonly replayed: boolean;
  /** For a stream message: the pair's stream generation it was sent on (see `streamCurrent`). */
  readonly stream?: number;
}

/**
 * The simulated network: who can reach whom, and when a message sent now arrives. Nodes sit on
 * numbered sides; a blocked (from side → to side) pair drops everything sent that way, so one
 * structure expresses symmetric and one-way partitions, isolation and bridges.
 *
 * Streams are FIFO per direction and lossless until reset: a reset of a pair drops every stream
 * message in flight between the two, both ways (a connection cut mid-transfer), and later
 * messages flow again on a fresh connection.
 */
export class SimNetwork {
  conditions: LinkConditions = LAN_LINK;
  private readonly side: number[];
  private readonly blocked = new Set<string>();
  /** Per ordered pair, when the last stream message lands: streams are FIFO. */
  private readonly streamTail = new Map<number, number>();
  /** Per unordered pair, the stream generation: bumped by every reset. */
  private readonly streamGen = new Map<number, number>();
  /** Stream resets so far. */
  resets = 0;

  constructor(
    readonly size: number,
    private readonly random: Random,
  ) {
    this.side = new Array<number>(size).fill(0);
  }

  /** Puts node `i` on side `s`. */
  setSide(i: number, s: number): void {
    this.side[i] = s;
  }

  /** Blocks traffic from side `a` to side `b` (call twice for a symmetric split). */
  block(a: number, b: number): void {
    this.blocked.add(`${a}>${b}`);
  }

  /** Removes every partition: all nodes on one side, nothing blocked. */
  heal(): void {
    this.side.fill(0);
    this.blocked.clear();
  }

  /** Whether `from` can currently reach `to`. */
  reachable(from: number, to: number): boolean {
    return this.blocked.size === 0 || !this.blocked.has(`${this.side[from]}>${this.side[to]}`);
  }

  /** Resets the stream between `a` and `b`: whatever is in flight on it, either way, is lost. */
  resetStream(a: number, b: number): void {
    const key = this.pairKey(a, b);
    this.streamGen.set(key, (this.streamGen.get(key) ?? 0) + 1);
    this.streamTail.delete(a * this.size + b);
    this.streamTail.delete(b * this.size + a);
    this.resets++;
  }

  /** Whether a stream message sent on generation `gen` of the pair's stream still arrives. */
  streamCurrent(from: number, to: number, gen: number): boolean {
    return (this.streamGen.get(this.pairKey(from, to)) ?? 0) === gen;
  }

  /** When (if ever) a message sent at `nowMs` arrives; a packet may arrive zero, one or two times. */
  route(from: number, to: number, channel: 'packet' | 'stream', nowMs: number): Delivery[] {
    if (!this.reachable(from, to)) return [];
    const c = this.conditions;
    if (channel === 'stream') {
      if (c.streamReset > 0 && this.random.next() < c.streamReset) {
        this.resetStream(from, to);
        return [];
      }
      const key = from * this.size + to;
      const at = Math.max(nowMs + this.latency(), this.streamTail.get(key) ?? 0);
      this.streamTail.set(key, at);
      return [{ atMs: at, replayed: false, stream: this.streamGen.get(this.pairKey(from, to)) ?? 0 }];
    }
    if (c.loss > 0 && this.random.next() < c.loss) return [];
    const out: Delivery[] = [{ atMs: nowMs + this.latency(), replayed: false }];
    if (c.duplicate > 0 && this.random.next() < c.duplicate) out.push({ atMs: nowMs + this.latency(), replayed: false });
    // A replay arrives seconds later, as a stale copy captured on the wire would.
    if (c.replay > 0 && this.random.next() < c.replay) out.push({ atMs: nowMs + 2000 + this.random.next() * 8000, replayed: true });
    return out;
  }

  private pairKey(a: number, b: number): number {
    return a < b ? a * this.size + b : b * this.size + a;
  }

  private latency(): number {
    const l = this.conditions.latency;
    const r = this.random.next();
    return l.baseMs + (l.distribution === 'uniform' ? r * l.jitterMs : -Math.log(1 - r) * l.jitterMs);
  }
}
