import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { Random } from '../core/random.ts';

/** The machine's wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** The machine's monotonic clock (ms from an arbitrary origin): never steps with the wall clock. */
export const monotonicClock: Clock = { now: () => performance.now() };

/** Cryptographically strong randomness from the operating system, drawn in blocks. */
export class CryptoRandom implements Random {
  private buf = randomBytes(1024);
  private at = 0;

  uint32(): number {
    if (this.at + 4 > this.buf.length) {
      this.buf = randomBytes(1024);
      this.at = 0;
    }
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }

  next(): number {
    return this.uint32() / 4294967296;
  }
}
