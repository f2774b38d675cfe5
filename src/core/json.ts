import { ChorusError, ErrorCode } from './errors.ts';

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Limits on a single JSON value. */
export interface JsonLimits {
  /** Deepest nesting accepted; a scalar is depth 0, `[1]` depth 1. */
  readonly maxDepth: number;
  /** Largest encoded size accepted, in bytes. */
  readonly maxBytes: number;
}

/** Default limits: 32 levels, 64 KiB per value. */
export const DEFAULT_JSON_LIMITS: JsonLimits = { maxDepth: 32, maxBytes: 64 * 1024 };

/** True when `s` has no unpaired surrogate, so it survives UTF-8 (the wire and storage) unchanged. */
export function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/** Bytes `s` takes as UTF-8. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2;
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

function strSize(s: string): number {
  const n = s.length < 32 && s.length === utf8Length(s) ? s.length : utf8Length(s);
  return n + (n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5);
}

function lenHeader(n: number): number {
  return n < 16 ? 1 : n < 65536 ? 3 : 5;
}

function numSize(x: number): number {
  if (Number.isInteger(x)) {
    if (x >= -32 && x < 128) return 1;
    if (x >= -128 && x < 256) return 2;
    if (x >= -32768 && x < 65536) return 3;
    if (x >= -2147483648 && x < 4294967296) return 5;
    return 9;
  }
  return Math.fround(x) === x ? 5 : 9;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Checks that `value` is plain JSON within `limits` and returns its MessagePack size in bytes.
 * Throws CHORUS_VALUE_NOT_JSON, CHORUS_VALUE_TOO_DEEP or CHORUS_VALUE_TOO_LARGE; `what` names
 * the value in the message.
 */
export function measureJson(value: unknown, limits: JsonLimits = DEFAULT_JSON_LIMITS, what = 'value'): number {
  // Scalars, the common case for device state, skip the walk and its bookkeeping.
  const size = typeof value === 'object' && value !== null ? walk(value, 0, what, limits, []) : scalarSize(value, what);
  if (size > limits.maxBytes) throw new ChorusError(ErrorCode.TooLarge, `${what} is ${size} bytes, the limit is ${limits.maxBytes}`);
  return size;
}

function scalarSize(v: unknown, path: string): number {
  switch (typeof v) {
    case 'string':
      if (!isWellFormed(v)) throw new ChorusError(ErrorCode.NotJson, `${path} holds an unpaired UTF-16 surrogate, which UTF-8 cannot carry`);
      return strSize(v);
    case 'number':
      if (!Number.isFinite(v)) throw new ChorusError(ErrorCode.NotJson, `${path} is ${v}, which JSON cannot represent`);
      return numSize(v);
    case 'boolean':
      return 1;
    case 'object':
      if (v === null) return 1;
      break;
  }
  throw new ChorusError(ErrorCode.NotJson, `${path} is ${v === undefined ? 'undefined' : `a ${typeof v}`}, which is not JSON`);
}

function walk(v: unknown, depth: number, path: string, limits: JsonLimits, ancestors: object[]): number {
  if (typeof v !== 'object' || v === null) return scalarSize(v, path);
  if (depth >= limits.maxDepth) throw new ChorusError(ErrorCode.TooDeep, `${path} is nested deeper than ${limits.maxDepth} levels`);
  if (ancestors.includes(v)) throw new ChorusError(ErrorCode.NotJson, `${path} contains a cycle`);
  ancestors.push(v);
  let size: number;
  if (Array.isArray(v)) {
    size = lenHeader(v.length);
    for (let i = 0; i < v.length && size <= limits.maxBytes; i++) {
      if (!(i in v)) throw new ChorusError(ErrorCode.NotJson, `${path}[${i}] is a hole in a sparse array`);
      size += walk(v[i], depth + 1, `${path}[${i}]`, limits, ancestors);
    }
  } else {
    if (!isPlainObject(v)) throw new ChorusError(ErrorCode.NotJson, `${path} is a ${v.constructor?.name ?? 'non-plain object'}, not a plain JSON object`);
    const keys = Object.keys(v);
    size = lenHeader(keys.length);
    for (let i = 0; i < keys.length && size <= limits.maxBytes; i++) {
      const k = keys[i] as string;
      if (!isWellFormed(k)) throw new ChorusError(ErrorCode.NotJson, `${path} has a key with an unpaired UTF-16 surrogate`);
      size += strSize(k) + walk((v as Record<string, unknown>)[k], depth + 1, `${path}.${k}`, limits, ancestors);
    }
  }
  ancestors.pop();
  if (size > limits.maxBytes) throw new ChorusError(ErrorCode.TooLarge, `${path} exceeds ${limits.maxBytes} bytes`);
  return size;
}
