/** Reconnect delays: exponential from minMs, capped at maxMs. */
export interface BackoffOptions {
  readonly minMs: number;
  readonly maxMs: number;
}

/** Default: the first retry after ~0.1 s; never wait more than 30 s, so a healed peer is found quickly. */
export const DEFAULT_BACKOFF: BackoffOptions = { minMs: 100, maxMs: 30_000 };

/**
 * The delay before reconnect attempt `attempt` (0 for the first): min(maxMs, minMs·2^attempt) with
 * "equal jitter" (AWS architecture blog), uniform over its upper half, so peers that lost each
 * other at the same moment do not redial in lockstep. `random01` is a draw from [0, 1).
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random01: number): number {
  const ceiling = Math.min(options.maxMs, options.minMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random01);
}
