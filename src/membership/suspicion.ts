import type { NodeId } from '../core/ids.ts';

// Lifeguard's dynamic suspicion timeout, as hashicorp/memberlist computes it (suspicion.go,
// util.go). The timeout starts at `max` and shrinks towards `min` as independent
// confirmations arrive: timeout(c) = max(min, max − (max − min)·log(c+1)/log(k+1)).

/** The suspicion timeout range for a cluster of `n` members. */
export interface SuspicionBounds {
  /** Shortest suspicion, reached with `k` confirmations (memberlist's suspicionTimeout). */
  readonly minMs: number;
  /** Longest suspicion, with no confirmation at all. */
  readonly maxMs: number;
}

/**
 * Milliseconds left before a suspicion with `confirmations` independent confirmations (out of
 * `k` expected) expires, `elapsedMs` after it began. Negative or zero means it has expired.
 * With `k < 1` nothing is expected, and the timeout is `minMs` from the start.
 */
export function remainingSuspicionTime(confirmations: number, k: number, elapsedMs: number, minMs: number, maxMs: number): number {
  if (k < 1) return minMs - elapsedMs;
  const frac = Math.log(confirmations + 1) / Math.log(k + 1);
  const raw = maxMs - frac * (maxMs - minMs);
  const timeout = Math.max(minMs, Math.floor(raw));
  return timeout - elapsedMs;
}

/**
 * Suspicion bounds for `n` known members: min = suspicionMult · max(1, log10(max(1, n))) ·
 * probeInterval, max = suspicionMaxTimeoutMult · min. The node scale is floored at 1 as in
 * memberlist, so small clusters never get a timeout shorter than suspicionMult intervals.
 */
export function suspicionBounds(
  config: { readonly suspicionMult: number; readonly suspicionMaxTimeoutMult: number; readonly probeIntervalMs: number },
  n: number,
): SuspicionBounds {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  // memberlist keeps three decimals of the scale (time.Duration is an integer).
  const minMs = Math.floor((config.suspicionMult * Math.floor(nodeScale * 1000) * config.probeIntervalMs) / 1000);
  return { minMs, maxMs: config.suspicionMaxTimeoutMult * minMs };
}

/**
 * Confirmations a suspicion expects (memberlist: suspicionMult − 2, so the nominal timeout
 * is reached two probe intervals early), or 0 when the `n` members, less ourselves and the
 * suspect, cannot supply that many.
 */
export function expectedConfirmations(suspicionMult: number, n: number): number {
  const k = suspicionMult - 2;
  return n - 2 < k ? 0 : Math.max(0, k);
}

/** One running suspicion of a member: when it began, its bounds, and who has confirmed it. */
export class Suspicion {
  readonly #sources = new Set<NodeId>();
  #confirmations = 0;

  /** Starts a suspicion raised by `source` (not counted as a confirmation). */
  constructor(
    readonly startedAt: number,
    readonly k: number,
    readonly bounds: SuspicionBounds,
    source: NodeId | undefined,
  ) {
    if (source !== undefined) this.#sources.add(source);
  }

  /** Counts `source` once as an independent confirmation; false if it was already counted or k is reached. */
  confirm(source: NodeId | undefined): boolean {
    if (source === undefined || this.#confirmations >= this.k || this.#sources.has(source)) return false;
    this.#sources.add(source);
    this.#confirmations++;
    return true;
  }

  /** Whether `source` raised this suspicion or confirmed it already. */
  counts(source: NodeId): boolean {
    return this.#sources.has(source);
  }

  /** Independent confirmations so far (at most k). */
  get confirmations(): number {
    return this.#confirmations;
  }

  /** Milliseconds left at `now`; zero or less means the suspect is to be declared dead. */
  remaining(now: number): number {
    return remainingSuspicionTime(this.#confirmations, this.k, now - this.startedAt, this.bounds.minMs, this.bounds.maxMs);
  }
}
