import type { Digest } from '../store/types.ts';
import type { SyncContext } from './context.ts';
import type { PeerReplication } from './replication.ts';

/** Per origin, the lowest watermark over `digests` (an origin missing from one is 0, so it is left out). */
export function lowestDigest(digests: readonly Readonly<Record<string, number>>[]): Digest {
  const [first, ...rest] = digests;
  if (first === undefined) return {};
  const out: Digest = {};
  for (const [origin, seq] of Object.entries(first)) {
    let low = seq;
    for (const d of rest) low = Math.min(low, d[origin] ?? 0);
    if (low > 0) out[origin] = low;
  }
  return out;
}

/**
 * Collects tombstones in the running node: every `gcIntervalMs`, those older than the store's
 * TTL (by the HLC's physical time, which ignores wall-clock steps) that every member we hold alive or suspect has reported holding
 * (the lowest of their last digests, and ours). A member whose digest we have not seen yet
 * holds collection back until it syncs. What was collected is exchanged with peers, so a
 * member that was away verifies itself before it spreads what the mesh deleted (Bootstrap).
 *
 * Only a node in the majority of the mesh it knows (itself and its live members, against the
 * members it still tries to reconnect to) collects: a node cut off from most of the mesh
 * would otherwise forget its own deletions alone, and on the heal the majority would have to
 * verify itself against the one node that missed everything else.
 */
export class Collector {
  readonly #ctx: SyncContext;
  readonly #replication: () => readonly PeerReplication[];
  readonly #failed: () => number;
  #nextAt: number;

  /** `failed`: how many members are dead but still tried now and then (Reconnector). */
  constructor(ctx: SyncContext, replication: () => readonly PeerReplication[], failed: () => number, now: number) {
    this.#ctx = ctx;
    this.#replication = replication;
    this.#failed = failed;
    this.#nextAt = ctx.config.gcIntervalMs > 0 ? now + ctx.config.gcIntervalMs : Number.POSITIVE_INFINITY;
  }

  /** When the next collection is due. */
  wakeAt(): number {
    return this.#nextAt;
  }

  /** Collects if due; returns how many tombstones went. */
  tick(now: number): number {
    if (now < this.#nextAt) return 0;
    this.#nextAt = now + this.#ctx.config.gcIntervalMs;
    const reachable = this.#ctx.membership.aliveNodeIds().length + 1;
    if (2 * reachable <= reachable + this.#failed()) {
      this.#ctx.counters.inc('collectionsDeferred');
      return 0;
    }
    const covered = this.coveredBy();
    if (covered === undefined) return 0;
    const dropped = this.#ctx.store.collectGarbage(this.#ctx.store.hlc.physicalNow(), covered).length;
    this.#ctx.counters.inc('tombstonesCollected', dropped);
    return dropped;
  }

  /** What every live member holds: the lowest of their digests and ours, or undefined while one is unknown. */
  coveredBy(): Digest | undefined {
    const known = new Map(this.#replication().map((p) => [p.nodeId as string, p.digest]));
    const digests: Readonly<Record<string, number>>[] = [this.#ctx.store.digest()];
    for (const id of this.#ctx.membership.aliveNodeIds()) {
      const d = known.get(id);
      if (d === undefined) return undefined;
      digests.push(d);
    }
    return lowestDigest(digests);
  }
}
