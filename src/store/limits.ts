import { ChorusError, ErrorCode } from '../core/errors.ts';
import { DEFAULT_MAX_DRIFT_MS } from '../core/hlc.ts';

/** Tunables of a replicated store. */
export interface StoreOptions {
  /** Deepest nesting of a field value. 32 keeps recursive encoders far from stack limits. */
  readonly maxDepth: number;
  /** Largest encoded field value. 64 KiB fits a rich device state and one UDP datagram. */
  readonly maxFieldBytes: number;
  /** How long tombstones are kept. 7 days covers a long weekend away plus margin. */
  readonly tombstoneTtlMs: number;
  /** How far ahead of our clock a remote stamp may be. 60 s tolerates NTP-less devices. */
  readonly maxDriftMs: number;
}

/** Defaults, each with its reason above. */
export const DEFAULT_STORE_OPTIONS: StoreOptions = {
  maxDepth: 32,
  maxFieldBytes: 64 * 1024,
  tombstoneTtlMs: 7 * 24 * 3600 * 1000,
  maxDriftMs: DEFAULT_MAX_DRIFT_MS,
};

/** Limits on one `deltasFor` or snapshot batch. */
export interface BatchLimits {
  /** Most records in the batch. */
  readonly maxRecords: number;
  /** Byte budget; a single larger record is still sent alone so progress is never blocked. */
  readonly maxBytes: number;
}

/** No cut: everything in one batch. */
export const UNLIMITED_BATCH: BatchLimits = { maxRecords: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER };

/** Merges `partial` over the defaults and validates every value. */
export function resolveStoreOptions(partial: Partial<StoreOptions> = {}): StoreOptions {
  const o = { ...DEFAULT_STORE_OPTIONS, ...partial };
  for (const [k, v] of Object.entries(o)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new ChorusError(ErrorCode.InvalidConfig, `store option ${k} must be a non-negative number, got ${String(v)}`);
    }
  }
  if (o.maxDepth < 1 || o.maxFieldBytes < 1) throw new ChorusError(ErrorCode.InvalidConfig, 'maxDepth and maxFieldBytes must be at least 1');
  return o;
}
