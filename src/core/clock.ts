/** A source of wall-clock time in milliseconds since the epoch; injected so cores stay pure. */
export interface Clock {
  /** Current wall-clock time, ms since the epoch. May jump backwards. */
  now(): number;
}

/** A clock the caller moves by hand: the simulator's and the tests' clock. */
export class ManualClock implements Clock {
  constructor(private ms = 0) {}
  now(): number {
    return this.ms;
  }
  /** Moves the clock forward (or back, for a negative `deltaMs`). */
  advance(deltaMs: number): void {
    this.ms += deltaMs;
  }
  /** Sets the clock to an absolute time. */
  set(ms: number): void {
    this.ms = ms;
  }
}
