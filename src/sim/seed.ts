import { ChorusError, ErrorCode } from '../core/errors.ts';

/** The largest simulator seed: seeds are unsigned 64-bit integers. */
export const MAX_SEED = (1n << 64n) - 1n;

/** A seed as callers give it: a safe integer, a bigint, or its decimal text. */
export type SeedInput = number | bigint | string;

/** Parses a seed in 0..2^64−1 exactly; throws CHORUS_INVALID_CONFIG naming the bad value. */
export function parseSeed(input: SeedInput): bigint {
  let seed: bigint;
  if (typeof input === 'bigint') seed = input;
  else if (typeof input === 'number') {
    if (!Number.isSafeInteger(input)) throw badSeed(String(input));
    seed = BigInt(input);
  } else {
    if (!/^[0-9]{1,20}$/.test(input)) throw badSeed(input);
    seed = BigInt(input);
  }
  if (seed < 0n || seed > MAX_SEED) throw badSeed(String(input));
  return seed;
}

/** The seed as JSON shows it exactly: a number up to 2^53−1, else its decimal string. */
export function seedJson(seed: bigint): number | string {
  return seed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seed) : seed.toString();
}

function badSeed(text: string): ChorusError {
  return new ChorusError(ErrorCode.InvalidConfig, `--seed must be an integer in 0..${MAX_SEED}, got ${JSON.stringify(text)}`);
}
