import type { NodeId } from '../core/ids.ts';
import { randomInt, shuffled, type Random } from '../core/random.ts';

/** Where a shuffled round robin stands: the order of this round and the next position in it. */
export interface RoundRobin {
  readonly order: readonly NodeId[];
  readonly index: number;
  /** The eligible list `order` was reconciled with; the same list again needs no reconciling. */
  readonly basis?: readonly NodeId[];
}

/** An empty round robin: the first pick shuffles. */
export const EMPTY_ROUND_ROBIN: RoundRobin = Object.freeze({ order: Object.freeze([]), index: 0 });

/**
 * The next probe target, SWIM's shuffled round robin: walk this round's order, skipping ids
 * no longer `eligible`; insert newly eligible ids at random positions among those still to
 * come (as memberlist does for new nodes); when the round is done, reshuffle. Every eligible
 * member is thus probed once per round, within 2·N intervals of the previous time.
 */
export function nextRoundRobin(rr: RoundRobin, eligible: readonly NodeId[], random: Random): { target: NodeId | undefined; next: RoundRobin } {
  if (eligible.length === 0) return { target: undefined, next: EMPTY_ROUND_ROBIN };
  // Unchanged membership (the caller hands back the same list): just step, O(1) per probe.
  if (rr.basis === eligible && rr.index < rr.order.length) return { target: rr.order[rr.index], next: { order: rr.order, index: rr.index + 1, basis: eligible } };
  const allowed = new Set(eligible);
  // Keep what is still eligible, both before and after the cursor.
  const done = rr.order.slice(0, rr.index).filter((id) => allowed.has(id));
  const rest = rr.order.slice(rr.index).filter((id) => allowed.has(id));
  const known = new Set(rr.order);
  for (const id of eligible) {
    if (!known.has(id)) rest.splice(randomInt(random, rest.length + 1), 0, id);
  }
  const order = rest.length > 0 ? [...done, ...rest] : shuffled(random, eligible);
  const index = rest.length > 0 ? done.length : 0;
  return { target: order[index], next: { order, index: index + 1, basis: eligible } };
}
