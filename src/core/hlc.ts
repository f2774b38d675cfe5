import type { Clock } from './clock.ts';
import { ChorusError, ErrorCode } from './errors.ts';

/** A hybrid logical clock reading: physical milliseconds and a logical counter. */
export interface Timestamp {
  readonly ms: number;
  readonly lc: number;
}

/** Default: how far ahead of our own clock a remote stamp may be before it is refused. */
export const DEFAULT_MAX_DRIFT_MS = 60_000;

/** Orders timestamps: negative when a < b, zero when equal, positive when a > b. */
export function compareTs(a: Timestamp, b: Timestamp): number {
  return a.ms - b.ms || a.lc - b.lc;
}

/** True when `t` is a well-formed timestamp (non-negative safe integers). */
export function isTimestamp(t: unknown): t is Timestamp {
  if (typeof t !== 'object' || t === null) return false;
  const { ms, lc } = t as { ms?: unknown; lc?: unknown };
  return Number.isSafeInteger(ms) && Number.isSafeInteger(lc) && (ms as number) >= 0 && (lc as number) >= 0;
}

/**
 * A hybrid logical clock (Kulkarni et al., 2014). Readings are strictly increasing even when
 * the wall clock steps backwards, stay close to physical time, and advance past every remote
 * stamp received, so causally later writes always carry higher stamps.
 */
export class HybridClock {
  private last: Timestamp = { ms: 0, lc: 0 };

  constructor(
    private readonly clock: Clock,
    readonly maxDriftMs: number = DEFAULT_MAX_DRIFT_MS,
  ) {
    if (!Number.isFinite(maxDriftMs) || maxDriftMs < 0) {
      throw new ChorusError(ErrorCode.InvalidConfig, `maxDriftMs must be a non-negative number, got ${maxDriftMs}`);
    }
  }

  /** The latest reading handed out or observed. */
  peek(): Timestamp {
    return this.last;
  }

  /** A new stamp for a local event or a message about to be sent. */
  now(): Timestamp {
    const pt = Math.floor(this.clock.now());
    this.last = pt > this.last.ms ? { ms: pt, lc: 0 } : { ms: this.last.ms, lc: this.last.lc + 1 };
    return this.last;
  }

  /** Whether a remote stamp lies too far ahead of our wall clock to be trusted. */
  tooFarAhead(remote: Timestamp): boolean {
    return remote.ms > Math.floor(this.clock.now()) + this.maxDriftMs;
  }

  /**
   * Observes a remote stamp and returns the merged reading. Throws CHORUS_CLOCK_DRIFT, changing
   * nothing, when the stamp is more than `maxDriftMs` ahead of our wall clock.
   */
  receive(remote: Timestamp): Timestamp {
    const pt = Math.floor(this.clock.now());
    if (remote.ms > pt + this.maxDriftMs) {
      throw new ChorusError(ErrorCode.ClockDrift, `remote stamp ${remote.ms} is ${remote.ms - pt} ms ahead of the local clock (limit ${this.maxDriftMs} ms)`);
    }
    const ms = Math.max(pt, this.last.ms, remote.ms);
    let lc: number;
    if (ms === this.last.ms && ms === remote.ms) lc = Math.max(this.last.lc, remote.lc) + 1;
    else if (ms === this.last.ms) lc = this.last.lc + 1;
    else if (ms === remote.ms) lc = remote.lc + 1;
    else lc = 0;
    this.last = { ms, lc };
    return this.last;
  }

  /** Advances past a stamp known to be ours (e.g. restored from storage) without a drift check. */
  observeOwn(stamp: Timestamp): void {
    if (compareTs(stamp, this.last) > 0) this.last = stamp;
  }
}
