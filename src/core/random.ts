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

/** The murmur3 32-bit finalizer: a bijection on 32-bit words that maps 0 to 0. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Low and high 32-bit words of a seed; numbers outside 0..2^53 keep the historical ToUint32 reading. */
function seedWords(seed: number | bigint): [lo: number, hi: number] {
  if (typeof seed === 'bigint') return [Number(BigInt.asUintN(32, seed)), Number(BigInt.asUintN(32, seed >> 32n))];
  if (Number.isSafeInteger(seed) && seed >= 0) return [seed >>> 0, Math.floor(seed / 4294967296) >>> 0];
  return [seed >>> 0, 0];
}

/**
 * sfc32: a small, fast PRNG with a 128-bit state that replays exactly from its seed.
 *
 * A seed is any integer in 0..2^64−1 (a number or a bigint); all 64 bits are mixed in and the
 * mapping from seed to state is injective (the low word fixes `a`, the high word is xored into
 * `b` through a bijection, and every sfc32 step is invertible), so two different seeds never
 * replay the same stream. Seeds below 2^32 give the same stream as before 64-bit seeds existed.
 */
export class SeededRandom implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | bigint) {
    const [lo, hi] = seedWords(seed);
    // splitmix32 spreads the low word over the four state words.
    let s = lo;
    const mix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      return fmix32(s);
    };
    this.a = mix();
    this.b = (mix() ^ fmix32(hi)) >>> 0;
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
