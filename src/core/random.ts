/** A source of randomness; injected so cores stay pure and runs replay from a seed. */
export interface Random {
  /** A uniformly distributed unsigned 32-bit integer. */
  uint32(): number;
  /** A float in [0, 1). */
  next(): number;
}

/** An integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random.next() * n);
}

/** Fisher-Yates shuffle of a copy of `items`. */
export function shuffled<T>(random: Random, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    const t = out[i] as T;
    out[i] = out[j] as T;
    out[j] = t;
  }
  return out;
}

/** Picks up to `k` distinct items uniformly. */
export function sample<T>(random: Random, items: readonly T[], k: number): T[] {
  if (k >= items.length) return shuffled(random, items);
  const out = items.slice();
  for (let i = 0; i < k; i++) {
    const j = i + randomInt(random, out.length - i);
    const t = out[i] as T;
    out[i] = out[j] as T;
    out[j] = t;
  }
  return out.slice(0, k);
}

/** sfc32: a small, fast PRNG with a 128-bit state that replays exactly from its seed. */
export class SeededRandom implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // splitmix32 spreads any 32-bit seed over the four state words.
    let s = seed >>> 0;
    const mix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  next(): number {
    return this.uint32() / 4294967296;
  }

  /** An independent stream derived from this one (for per-node randomness in a simulation). */
  fork(): SeededRandom {
    return new SeededRandom(this.uint32());
  }
}
