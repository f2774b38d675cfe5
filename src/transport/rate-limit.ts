/** A token bucket: `tokens` left at `atMs`; refills continuously up to its burst. */
export interface TokenBucket {
  tokens: number;
  atMs: number;
}

/** A full bucket at `nowMs`. */
export function fullBucket(burst: number, nowMs: number): TokenBucket {
  return { tokens: burst, atMs: nowMs };
}

/** Refills `bucket` to `nowMs` at `ratePerS` (capped at `burst`); a clock stepping back refills nothing. */
export function refill(bucket: TokenBucket, nowMs: number, ratePerS: number, burst: number): void {
  const elapsedMs = nowMs - bucket.atMs;
  if (elapsedMs > 0) bucket.tokens = Math.min(burst, bucket.tokens + (elapsedMs * ratePerS) / 1000);
  bucket.atMs = Math.max(bucket.atMs, nowMs);
}

/** Takes one token if there is one; false means the event is over the limit. */
export function take(bucket: TokenBucket, nowMs: number, ratePerS: number, burst: number): boolean {
  refill(bucket, nowMs, ratePerS, burst);
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

/** Limits of a SourceRateLimiter; each bucket's burst equals its rate (one second's worth). */
export interface RateLimits {
  /** Events accepted per second from one source (IP address). */
  readonly perSourcePerS: number;
  /** Events accepted per second from all sources together. */
  readonly globalPerS: number;
  /** Most sources tracked at once, so spoofed source addresses cannot grow memory without bound. */
  readonly maxSources?: number;
}

/** Why an event was refused, or 'ok'. */
export type RateVerdict = 'ok' | 'source' | 'global';

/** Default bound on tracked sources: far above the nodes of one home LAN. */
export const DEFAULT_MAX_SOURCES = 4096;

/**
 * Token buckets per source and one global bucket. The source bucket is consulted first,
 * so one flooding source spends only its own tokens and cannot starve the others.
 */
export class SourceRateLimiter {
  readonly #sources = new Map<string, TokenBucket>();
  readonly #global: TokenBucket;
  readonly #perSource: number;
  readonly #globalRate: number;
  readonly #maxSources: number;
  #sweptAtMs = Number.NEGATIVE_INFINITY;

  constructor(limits: RateLimits, nowMs: number) {
    this.#perSource = limits.perSourcePerS;
    this.#globalRate = limits.globalPerS;
    this.#maxSources = limits.maxSources ?? DEFAULT_MAX_SOURCES;
    this.#global = fullBucket(this.#globalRate, nowMs);
  }

  /** Counts one event from `source` at `nowMs` and says whether it may be processed. */
  allow(source: string, nowMs: number): RateVerdict {
    let bucket = this.#sources.get(source);
    if (bucket === undefined) {
      this.#makeRoom(nowMs);
      bucket = fullBucket(this.#perSource, nowMs);
      this.#sources.set(source, bucket);
    }
    if (!take(bucket, nowMs, this.#perSource, this.#perSource)) return 'source';
    if (!take(this.#global, nowMs, this.#globalRate, this.#globalRate)) return 'global';
    return 'ok';
  }

  /** Sources currently tracked. */
  get size(): number {
    return this.#sources.size;
  }

  // A full bucket carries no information (a new one would be full too), so those go first,
  // in a sweep run at most once a second so a stream of spoofed sources cannot make every
  // datagram cost a scan. Otherwise the oldest entry goes; the global bucket still bounds the total.
  #makeRoom(nowMs: number): void {
    if (this.#sources.size < this.#maxSources) return;
    if (nowMs - this.#sweptAtMs >= 1000) {
      this.#sweptAtMs = nowMs;
      for (const [key, b] of this.#sources) {
        refill(b, nowMs, this.#perSource, this.#perSource);
        if (b.tokens >= this.#perSource) this.#sources.delete(key);
      }
    }
    if (this.#sources.size < this.#maxSources) return;
    const oldest = this.#sources.keys().next();
    if (oldest.done !== true) this.#sources.delete(oldest.value);
  }
}
