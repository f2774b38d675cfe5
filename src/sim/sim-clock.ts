import type { Clock } from '../core/clock.ts';

/** Wall-clock time at virtual time 0 (November 2023): stamps look like real epoch milliseconds. */
export const WALL_EPOCH_MS = 1_700_000_000_000;

/**
 * One simulated machine's clocks. The wall clock (the Clock given to Store and Engine) reads
 * WALL_EPOCH_MS + virtual·rate + offset, so it can be stepped (offset) or run fast or slow
 * (rate) without a discontinuity; the monotonic clock is virtual time, untouched by wall faults,
 * as `performance.now()` is untouched by NTP steps.
 */
export class SimClock {
  private rate = 1;
  private offsetMs = 0;
  /** The wall clock, with its faults. */
  readonly wall: Clock;
  /** Virtual time: never steps, never drifts. */
  readonly monotonic: Clock;

  constructor(private readonly virtualNow: () => number) {
    this.wall = { now: () => WALL_EPOCH_MS + virtualNow() * this.rate + this.offsetMs };
    this.monotonic = { now: virtualNow };
  }

  /** Steps the wall clock by `deltaMs` (negative: back). */
  step(deltaMs: number): void {
    this.offsetMs += deltaMs;
  }

  /** From now on the wall clock runs at `rate` × real time (1.01: 1% fast), continuing from its current reading. */
  setRate(rate: number): void {
    const v = this.virtualNow();
    this.offsetMs += v * (this.rate - rate);
    this.rate = rate;
  }

  /** Wall clock minus virtual time, ms (0 for a clock without faults). */
  errorMs(): number {
    return this.wall.now() - WALL_EPOCH_MS - this.virtualNow();
  }
}
