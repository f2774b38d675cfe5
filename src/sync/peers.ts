import type { NodeId } from '../core/ids.ts';
import { randomInt, sample, type Random } from '../core/random.ts';

/**
 * The alive peers (never ourselves), kept as an array plus an index so that adding,
 * removing and drawing a random peer or a small random sample cost O(1) per peer drawn,
 * whatever the mesh size: pushes and forwards must not scan 10,000 members per message.
 */
export class PeerSet {
  readonly #ids: NodeId[] = [];
  readonly #index = new Map<NodeId, number>();

  /** Number of alive peers. */
  get size(): number {
    return this.#ids.length;
  }

  /** Whether `id` is an alive peer. */
  has(id: NodeId): boolean {
    return this.#index.has(id);
  }

  /** Adds a peer; returns false when it was already there. */
  add(id: NodeId): boolean {
    if (this.#index.has(id)) return false;
    this.#index.set(id, this.#ids.length);
    this.#ids.push(id);
    return true;
  }

  /** Removes a peer (swap with the last); returns false when it was absent. */
  delete(id: NodeId): boolean {
    const at = this.#index.get(id);
    if (at === undefined) return false;
    const last = this.#ids.pop() as NodeId;
    this.#index.delete(id);
    if (last !== id) {
      this.#ids[at] = last;
      this.#index.set(last, at);
    }
    return true;
  }

  /** Every alive peer, in no meaningful order. */
  list(): readonly NodeId[] {
    return this.#ids;
  }

  /** One random peer other than `exclude`, or undefined when there is none. */
  pick(random: Random, exclude?: NodeId): NodeId | undefined {
    return this.sample(random, 1, exclude)[0];
  }

  /** Up to `k` distinct random peers, never `exclude`. */
  sample(random: Random, k: number, exclude?: NodeId): NodeId[] {
    const excluded = exclude !== undefined && this.#index.has(exclude) ? 1 : 0;
    const n = this.#ids.length;
    if (k <= 0 || n - excluded <= 0) return [];
    if (2 * k >= n - excluded) {
      const pool = excluded === 1 ? this.#ids.filter((id) => id !== exclude) : this.#ids;
      return sample(random, pool, k);
    }
    // k is well below n: rejection sampling touches O(k) entries instead of copying n.
    const chosen = new Set<number>();
    const out: NodeId[] = [];
    while (out.length < k) {
      const i = randomInt(random, n);
      const id = this.#ids[i] as NodeId;
      if (chosen.has(i) || id === exclude) continue;
      chosen.add(i);
      out.push(id);
    }
    return out;
  }
}
