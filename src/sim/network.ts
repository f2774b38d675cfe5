import type { Random } from '../core/random.ts';

/** How long a message takes on a link. */
export interface LatencyModel {
  /** Fixed part, ms. */
  readonly baseMs: number;
  /** Random part, ms: uniform in [0, jitterMs), or exponential with that mean. */
  readonly jitterMs: number;
  readonly distribution: 'uniform' | 'exponential';
}

/** Link conditions; packets suffer loss, duplication and reordering, streams only latency. */
export interface LinkConditions {
  readonly latency: LatencyModel;
  /** Probability a packet is lost. */
  readonly loss: number;
  /** Probability a packet is delivered twice. */
  readonly duplicate: number;
  /** Probability a delivered packet is kept and replayed much later. */
  readonly replay: number;
}

/** A LAN: about a millisecond, nothing lost. */
export const LAN_LINK: LinkConditions = { latency: { baseMs: 0.5, jitterMs: 1, distribution: 'uniform' }, loss: 0, duplicate: 0, replay: 0 };

/** One scheduled delivery decided by the network. */
export interface Delivery {
  readonly atMs: number;
  readonly replayed: boolean;
}

/**
 * The simulated network: who can reach whom, and when a message sent now arrives. Nodes sit on
 * numbered sides; a blocked (from side → to side) pair drops everything sent that way, so one
 * structure expresses symmetric and one-way partitions, isolation and bridges.
 */
export class SimNetwork {
  conditions: LinkConditions = LAN_LINK;
  private readonly side: number[];
  private readonly blocked = new Set<string>();
  /** Per ordered pair, when the last stream message lands: streams are FIFO. */
  private readonly streamTail = new Map<number, number>();

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

  /** When (if ever) a message sent at `nowMs` arrives; a packet may arrive zero, one or two times. */
  route(from: number, to: number, channel: 'packet' | 'stream', nowMs: number): Delivery[] {
    if (!this.reachable(from, to)) return [];
    const c = this.conditions;
    if (channel === 'stream') {
      const key = from * this.size + to;
      const at = Math.max(nowMs + this.latency(), this.streamTail.get(key) ?? 0);
      this.streamTail.set(key, at);
      return [{ atMs: at, replayed: false }];
    }
    if (c.loss > 0 && this.random.next() < c.loss) return [];
    const out: Delivery[] = [{ atMs: nowMs + this.latency(), replayed: false }];
    if (c.duplicate > 0 && this.random.next() < c.duplicate) out.push({ atMs: nowMs + this.latency(), replayed: false });
    // A replay arrives seconds later, as a stale copy captured on the wire would.
    if (c.replay > 0 && this.random.next() < c.replay) out.push({ atMs: nowMs + 2000 + this.random.next() * 8000, replayed: true });
    return out;
  }

  private latency(): number {
    const l = this.conditions.latency;
    const r = this.random.next();
    return l.baseMs + (l.distribution === 'uniform' ? r * l.jitterMs : -Math.log(1 - r) * l.jitterMs);
  }
}
