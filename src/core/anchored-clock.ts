import type { Clock } from './clock.ts';
import { ChorusError, ErrorCode } from './errors.ts';

/**
 * Default: the largest disagreement between the wall clock and the monotonic estimate that is
 * followed at once. NTP slews at most 0.5 ms/s (chrony by default up to ~83 ms/s while far off),
 * so between two readings a few seconds apart an honest clock moves well under a second; a
 * larger change is a step. It is far below DEFAULT_MAX_DRIFT_MS, so following a change of this
 * size never carries our stamps out of the drift bound peers enforce.
 */
export const DEFAULT_MAX_STEP_MS = 1_000;

/**
 * Default: how long a step must persist (in monotonic time) before it is believed. Long enough
 * to ride out a mistaken or quickly reverted setting, a bad NTP answer replaced by a better one;
 * short enough that a clock that really was wrong (set right after boot) is followed within
 * minutes. Ten minutes is also far longer than any single partition-free write burst, so a wrong
 * step never reaches peers' drift checks through our stamps.
 */
export const DEFAULT_STEP_ACCEPT_AFTER_MS = 600_000;

/**
 * Wall times before 2020-01-01T00:00:00Z mean the clock was never set (a board without a
 * real-time clock boots in 1970): a step away from such an anchor is followed at once.
 */
export const UNSET_WALL_BEFORE_MS = 1_577_836_800_000;

/** Settings of an AnchoredClock. */
export interface AnchoredClockOptions {
  /** Largest wall-clock change followed at once (default DEFAULT_MAX_STEP_MS). */
  readonly maxStepMs?: number | undefined;
  /** How long a larger step must persist before it is accepted (default DEFAULT_STEP_ACCEPT_AFTER_MS). */
  readonly stepAcceptAfterMs?: number | undefined;
}

/** What an AnchoredClock did with the wall clock, for metrics and logs. */
export interface AnchoredClockStats {
  /** Readings that moved the anchor to the wall clock (it drifted or slewed by 1 ms or more). */
  readonly reanchors: number;
  /** Wall-clock steps larger than maxStepMs that were not followed, counted when first seen. */
  readonly stepsIgnored: number;
  /** Of those, steps adopted after all: they persisted, left an unset clock, or `acceptStep` confirmed them. */
  readonly stepsAccepted: number;
  /** Wall clock minus our physical time at the last reading, ms (about 0 while they agree). */
  readonly offsetMs: number;
}

/** A step being watched: when it was first seen (monotonic ms) and its latest size. */
interface PendingStep {
  readonly since: number;
  offset: number;
}

/**
 * Physical time that follows the wall clock's slow drift but not its steps: the monotonic clock
 * measured from an anchor (a wall reading and the monotonic reading taken with it).
 *
 * Invariants:
 * 1. Each reading is `anchorWall + (monotonic - anchorMono)`, or the wall clock itself when the
 *    two agree within `maxStepMs`, in which case the anchor moves to the wall clock.
 * 2. A disagreement larger than `maxStepMs` is a step: the reading stays on the monotonic
 *    estimate until the step has lasted `stepAcceptAfterMs` (a step whose size changes by more
 *    than `maxStepMs` starts over) or `acceptStep` is called; then the anchor moves to the wall.
 * 3. Without a separate monotonic clock (monotonic = wall) every reading is the wall clock.
 * 4. An anchor before UNSET_WALL_BEFORE_MS (a clock never set) follows any step at once.
 *
 * The first reading anchors to the wall clock as it is: a clock wrong from the start (but not
 * obviously unset) is only corrected when the correction is accepted as a step.
 */
export class AnchoredClock implements Clock {
  readonly maxStepMs: number;
  readonly stepAcceptAfterMs: number;
  #anchor: { wall: number; mono: number } | undefined;
  #step: PendingStep | undefined;
  #reanchors = 0;
  #stepsIgnored = 0;
  #stepsAccepted = 0;
  #offsetMs = 0;
  #lastWall = 0;
  #lastMono = 0;

  constructor(
    private readonly wall: Clock,
    private readonly monotonic: Clock = wall,
    options: AnchoredClockOptions = {},
  ) {
    this.maxStepMs = positive('maxStepMs', options.maxStepMs ?? DEFAULT_MAX_STEP_MS);
    this.stepAcceptAfterMs = positive('stepAcceptAfterMs', options.stepAcceptAfterMs ?? DEFAULT_STEP_ACCEPT_AFTER_MS);
  }

  /** Physical time in ms since the epoch (fractional when the monotonic clock is). */
  now(): number {
    const wall = this.wall.now();
    const mono = this.monotonic.now();
    this.#lastWall = wall;
    this.#lastMono = mono;
    if (this.#anchor === undefined) {
      this.#anchor = { wall, mono };
      return wall;
    }
    const estimate = this.#anchor.wall + (mono - this.#anchor.mono);
    const offset = wall - estimate;
    if (Math.abs(offset) <= this.maxStepMs) {
      this.#step = undefined;
      this.#offsetMs = 0;
      if (Math.abs(offset) >= 1) {
        this.#reanchors++;
        this.#anchor = { wall, mono };
      }
      return wall;
    }
    if (this.#step === undefined || Math.abs(offset - this.#step.offset) > this.maxStepMs) {
      this.#step = { since: mono, offset };
      this.#stepsIgnored++;
    } else {
      this.#step.offset = offset;
    }
    if (mono - this.#step.since >= this.stepAcceptAfterMs || this.#anchor.wall < UNSET_WALL_BEFORE_MS) return this.acceptStep();
    this.#offsetMs = offset;
    return estimate;
  }

  /** Whether the wall clock currently disagrees by a step that is not (yet) followed. */
  stepPending(): boolean {
    return this.#step !== undefined;
  }

  /** The wall clock's reading at the last `now()`, whether followed or not. */
  lastWall(): number {
    return this.#lastWall;
  }

  /**
   * Adopts the pending step now (other evidence says the wall clock is right, e.g. peers' stamps
   * agree with it) and returns the new physical time; without a pending step, changes nothing.
   */
  acceptStep(): number {
    if (this.#step === undefined || this.#anchor === undefined) return this.now();
    this.#step = undefined;
    this.#stepsAccepted++;
    this.#offsetMs = 0;
    this.#anchor = { wall: this.#lastWall, mono: this.#lastMono };
    return this.#lastWall;
  }

  /** Counters of what happened to the wall clock so far. */
  stats(): AnchoredClockStats {
    return { reanchors: this.#reanchors, stepsIgnored: this.#stepsIgnored, stepsAccepted: this.#stepsAccepted, offsetMs: this.#offsetMs };
  }
}

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new ChorusError(ErrorCode.InvalidConfig, `${name} must be a positive number, got ${v}`);
  return v;
}
