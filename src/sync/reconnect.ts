import type { NodeId } from '../core/ids.ts';
import { randomInt } from '../core/random.ts';
import type { SyncContext } from './context.ts';

interface Failed {
  readonly address: string;
  readonly since: number;
}

/**
 * Reconnects to failed members after a partition heals (Serf's reconnect): SWIM stops
 * talking to dead members, so two halves of a healed partition would each keep the other
 * dead forever. Each sync round, with probability failed / (alive + 1), we say HELLO to one
 * random failed member; the handshake's claims then make both sides refute and rejoin.
 *
 * Invariants:
 * 1. `failed` holds members last reported dead (or reaped while dead), with the address they
 *    had, for at most reconnectTimeoutMs; a member that leaves gracefully is not kept.
 * 2. A member reported alive again leaves `failed` at once.
 */
export class Reconnector {
  readonly #ctx: SyncContext;
  readonly #failed = new Map<NodeId, Failed>();

  constructor(ctx: SyncContext) {
    this.#ctx = ctx;
    ctx.onStatus((o) => {
      if (o.status === 'dead') {
        const host = o.member.addresses[0];
        if (host !== undefined) this.#failed.set(o.nodeId, { address: `${host}:${o.member.port}`, since: ctx.now });
      } else if (o.status !== 'removed') this.#failed.delete(o.nodeId);
    });
  }

  /** Members we would try to reconnect to. */
  get size(): number {
    return this.#failed.size;
  }

  /** Once per sync round: maybe say HELLO to one failed member; forget the expired ones. */
  round(now: number, hello: (address: string) => void): void {
    const ctx = this.#ctx;
    for (const [id, f] of this.#failed) if (now - f.since > ctx.config.reconnectTimeoutMs) this.#failed.delete(id);
    const n = this.#failed.size;
    if (n === 0 || ctx.random.next() * (ctx.peers.size + 1) >= n) return;
    let k = randomInt(ctx.random, n);
    for (const f of this.#failed.values()) {
      if (k-- > 0) continue;
      ctx.counters.inc('reconnects');
      hello(f.address);
      return;
    }
  }
}
