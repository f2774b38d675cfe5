/** A per-client request budget: `perSecond` on average, up to `burst` at once. */
export interface RateLimitOptions {
  /** Average requests per second per client; 0 turns the limit off. */
  readonly perSecond: number;
  /** Requests a client may make at once (the bucket's size). */
  readonly burst: number;
  /** Clients tracked before idle ones are forgotten (bounds memory under many addresses). */
  readonly maxClients?: number;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

/**
 * Token buckets keyed by client (the remote address). Pure: time comes in as `nowMs`, so a
 * table test drives it without sleeping.
 *
 * Invariants: a bucket never holds more than `burst` tokens; a request is allowed only by
 * taking a whole token; at most `maxClients` buckets exist after any call.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly maxClients: number;

  constructor(private readonly opts: RateLimitOptions) {
    if (!(opts.perSecond > 0) || !(opts.burst >= 1)) throw new RangeError(`rate limit needs perSecond > 0 and burst >= 1, got ${opts.perSecond}/${opts.burst}`);
    this.perMs = opts.perSecond / 1000;
    this.maxClients = opts.maxClients ?? 10_000;
  }

  /** Takes one token for `key`: 0 when allowed, otherwise the milliseconds until a token is due. */
  take(key: string, nowMs: number): number {
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= this.maxClients) this.evict(nowMs);
      b = { tokens: this.opts.burst, atMs: nowMs };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.opts.burst, b.tokens + Math.max(0, nowMs - b.atMs) * this.perMs);
      b.atMs = nowMs;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / this.perMs);
  }

  /** Clients tracked now. */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Forgets buckets that have refilled (their clients went quiet), then the oldest created until
   * a tenth of the room is free, so a stream of new addresses pays for one sweep per many clients.
   */
  private evict(nowMs: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + (nowMs - b.atMs) * this.perMs >= this.opts.burst) this.buckets.delete(k);
    const keep = Math.floor(this.maxClients * 0.9);
    for (const k of this.buckets.keys()) {
      if (this.buckets.size <= keep) break;
      this.buckets.delete(k);
    }
  }
}
