import type { NodeId } from '../core/ids.ts';

// A transmit-limited queue of member updates, after memberlist's TransmitLimitedQueue: each
// update is handed out a bounded number of times, fewest-sent first (among equals: priority,
// then newest), and a newer update about the same member replaces the older one, whose count
// restarts at zero.

/** Times each update is piggybacked in a cluster of `n` members: ceil(λ · log10(n + 1)), at least 1. */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return Math.max(1, Math.ceil(retransmitMult * Math.log10(Math.max(1, n) + 1)));
}

interface Item {
  readonly nodeId: NodeId;
  transmits: number;
  readonly priority: boolean;
  /** Enqueue order: among equals, the newest goes first (it is the least spread). */
  readonly order: number;
}

/** Member updates waiting to be piggybacked, one per member. */
export class BroadcastQueue {
  readonly #items = new Map<NodeId, Item>();
  #order = 0;

  /** Queues news about `nodeId`, replacing any older entry; `priority` entries go first among the equally sent. */
  enqueue(nodeId: NodeId, priority = false): void {
    this.#items.set(nodeId, { nodeId, transmits: 0, priority, order: this.#order++ });
  }

  /** Drops the entry about `nodeId`, if any. */
  remove(nodeId: NodeId): void {
    this.#items.delete(nodeId);
  }

  /** True when news about `nodeId` is waiting. */
  has(nodeId: NodeId): boolean {
    return this.#items.has(nodeId);
  }

  /** Entries waiting. */
  get size(): number {
    return this.#items.size;
  }

  /** Up to `max` member ids to piggyback now, counting one transmission each; entries reaching `limit` leave. */
  take(max: number, limit: number): NodeId[] {
    if (max <= 0 || this.#items.size === 0) return [];
    // Partial selection of the `max` best: one pass, no sort of the whole queue per message.
    const best: Item[] = [];
    for (const item of this.#items.values()) {
      if (best.length === max && !before(item, best[best.length - 1] as Item)) continue;
      let i = best.length;
      while (i > 0 && before(item, best[i - 1] as Item)) i--;
      best.splice(i, 0, item);
      if (best.length > max) best.pop();
    }
    const out: NodeId[] = [];
    for (const item of best) {
      out.push(item.nodeId);
      item.transmits++;
      if (item.transmits >= limit) this.#items.delete(item.nodeId);
    }
    return out;
  }
}

/** Fewest-sent first; among equals priority, then newest. */
function before(a: Item, b: Item): boolean {
  return a.transmits - b.transmits < 0 || (a.transmits === b.transmits && (Number(b.priority) - Number(a.priority) < 0 || (a.priority === b.priority && b.order - a.order < 0)));
}
