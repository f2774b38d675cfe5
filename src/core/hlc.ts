import { AnchoredClock, type AnchoredClockStats } from './anchored-clock.ts';
import type { Clock } from './clock.ts';
import { ChorusError, ErrorCode } from './errors.ts';

/** A hybrid logical clock reading: physical milliseconds and a logical counter. */
export interface Timestamp {
  readonly ms: number;
  readonly lc: number;
}

/** Default: how far ahead of our own clock a remote stamp may be before it is refused. */
export const DEFAULT_MAX_DRIFT_MS = 60_000;

/**
 * The largest logical counter a stamp may carry. 65,536 stamps in one millisecond (65 million a
 * second) is beyond any node's write rate, so only a hostile or corrupt counter reaches it; the
 * bound keeps every stamp we derive a safe integer (an unbounded counter received from a peer
 * would make our next stamps unsafe, refused by everyone, ourselves included on reload), and it
 * fits 16 bits should the wire ever pack a stamp in one 64-bit word (48-bit ms + 16-bit lc).
 * When our own counter would pass it, the clock moves to ms + 1 instead: stamps run ahead of
 * physical time by at most 1 ms per 65,536 stamps.
 */
export const MAX_LOGICAL = 65_535;

/** Orders timestamps: negative when a < b, zero when equal, positive when a > b. */
export function compareTs(a: Timestamp, b: Timestamp): number {
  return a.ms - b.ms || a.lc - b.lc;
}

/** True when `t` is a well-formed timestamp (non-negative safe integers, lc at most MAX_LOGICAL). */
export function isTimestamp(t: unknown): t is Timestamp {
  if (typeof t !== 'object' || t === null) return false;
  const { ms, lc } = t as { ms?: unknown; lc?: unknown };
  return Number.isSafeInteger(ms) && Number.isSafeInteger(lc) && (ms as number) >= 0 && (lc as number) >= 0 && (lc as number) <= MAX_LOGICAL;
}

/** Settings of a HybridClock; see AnchoredClock for the step options. */
export interface HybridClockOptions {
  /**
   * A clock that never steps (in the node: `performance.now()`), from which physical time is
   * measured between agreements with the wall clock. Without it, physical time is the wall clock.
   */
  readonly monotonic?: Clock | undefined;
  /** How far ahead of our physical time a remote stamp may be (default DEFAULT_MAX_DRIFT_MS). */
  readonly maxDriftMs?: number | undefined;
  /** Largest wall-clock change followed at once (default DEFAULT_MAX_STEP_MS). */
  readonly maxStepMs?: number | undefined;
  /** How long a larger wall-clock step must persist before it is followed (default DEFAULT_STEP_ACCEPT_AFTER_MS). */
  readonly stepAcceptAfterMs?: number | undefined;
}

/**
 * A hybrid logical clock (Kulkarni et al., 2014). Readings are strictly increasing even when
 * the wall clock steps backwards, stay close to physical time, and advance past every remote
 * stamp received, so causally later writes always carry higher stamps.
 *
 * Invariants:
 * 1. `last` is a valid timestamp (isTimestamp): a refused stamp changes nothing, and a counter
 *    that would pass MAX_LOGICAL moves to the next millisecond instead.
 * 2. Physical time, for our stamps and for the drift check alike, is the AnchoredClock's: it
 *    follows the wall clock's drift but not its steps, so a wall clock that jumps ahead for a
 *    while does not leave us stamping in the future, nor one that falls behind refuse peers.
 * 3. A step ignored so far is accepted at once when a remote stamp that our physical time would
 *    refuse agrees with the wall clock within maxDriftMs: the wall was right (e.g. the machine
 *    slept and the monotonic clock stood still).
 */
export class HybridClock {
  readonly maxDriftMs: number;
  private last: Timestamp = { ms: 0, lc: 0 };
  readonly #physical: AnchoredClock;

  constructor(wall: Clock, options: HybridClockOptions = {}) {
    const maxDriftMs = options.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS;
    if (!Number.isFinite(maxDriftMs) || maxDriftMs < 0) {
      throw new ChorusError(ErrorCode.InvalidConfig, `maxDriftMs must be a non-negative number, got ${maxDriftMs}`);
    }
    this.maxDriftMs = maxDriftMs;
    this.#physical = new AnchoredClock(wall, options.monotonic ?? wall, { maxStepMs: options.maxStepMs, stepAcceptAfterMs: options.stepAcceptAfterMs });
  }

  /** The latest reading handed out or observed. */
  peek(): Timestamp {
    return this.last;
  }

  /** A new stamp for a local event or a message about to be sent. */
  now(): Timestamp {
    const pt = Math.floor(this.#physical.now());
    this.last = pt > this.last.ms ? { ms: pt, lc: 0 } : bump(this.last.ms, this.last.lc + 1);
    return this.last;
  }

  /** Whether a remote stamp lies too far ahead of our physical time to be trusted. */
  tooFarAhead(remote: Timestamp): boolean {
    return remote.ms > this.#physicalFor(remote) + this.maxDriftMs;
  }

  /**
   * Observes a remote stamp and returns the merged reading. Changing nothing, throws
   * CHORUS_MALFORMED_RECORD when it is not a valid timestamp (e.g. lc above MAX_LOGICAL), and
   * CHORUS_CLOCK_DRIFT when it is more than `maxDriftMs` ahead of our physical time.
   */
  receive(remote: Timestamp): Timestamp {
    if (!isTimestamp(remote)) throw invalid(remote);
    const pt = this.#physicalFor(remote);
    if (remote.ms > pt + this.maxDriftMs) {
      throw new ChorusError(ErrorCode.ClockDrift, `remote stamp ${remote.ms} is ${remote.ms - pt} ms ahead of the local clock (limit ${this.maxDriftMs} ms)`);
    }
    const ms = Math.max(pt, this.last.ms, remote.ms);
    if (ms === this.last.ms && ms === remote.ms) this.last = bump(ms, Math.max(this.last.lc, remote.lc) + 1);
    else if (ms === this.last.ms) this.last = bump(ms, this.last.lc + 1);
    else if (ms === remote.ms) this.last = bump(ms, remote.lc + 1);
    else this.last = { ms, lc: 0 };
    return this.last;
  }

  /**
   * Advances past a stamp known to be ours (e.g. restored from storage) without a drift check;
   * throws CHORUS_MALFORMED_RECORD, changing nothing, when it is not a valid timestamp.
   */
  observeOwn(stamp: Timestamp): void {
    if (!isTimestamp(stamp)) throw invalid(stamp);
    if (compareTs(stamp, this.last) > 0) this.last = stamp;
  }

  /** Physical time in whole ms, as our stamps use it (the wall clock without its ignored steps). */
  physicalNow(): number {
    return Math.floor(this.#physical.now());
  }

  /** What the physical clock did with the wall clock: re-anchors, steps ignored and accepted. */
  stats(): AnchoredClockStats {
    return this.#physical.stats();
  }

  /** Physical time (whole ms) to check `remote` against, after accepting a step it corroborates. */
  #physicalFor(remote: Timestamp): number {
    const pt = Math.floor(this.#physical.now());
    const corroborated = remote.ms > pt + this.maxDriftMs && this.#physical.stepPending() && Math.abs(remote.ms - this.#physical.lastWall()) <= this.maxDriftMs;
    return corroborated ? Math.floor(this.#physical.acceptStep()) : pt;
  }
}

/** `{ ms, lc }`, or the first stamp of the next millisecond when lc passes MAX_LOGICAL. */
function bump(ms: number, lc: number): Timestamp {
  return lc > MAX_LOGICAL ? { ms: ms + 1, lc: 0 } : { ms, lc };
}

function invalid(t: unknown): ChorusError {
  const { ms, lc } = typeof t === 'object' && t !== null ? (t as { ms?: unknown; lc?: unknown }) : {};
  const show = (v: unknown): string => (typeof v === 'number' ? String(v) : typeof v);
  return new ChorusError(ErrorCode.MalformedRecord, `stamp { ms: ${show(ms)}, lc: ${show(lc)} } is not a timestamp (non-negative safe integers, lc at most ${MAX_LOGICAL})`);
}
