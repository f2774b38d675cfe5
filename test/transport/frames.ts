import { KEY_BYTES, Keyring } from '../../src/transport/keyring.ts';

/** Deterministic keys: the byte repeated. */
export const keyOf = (byte: number): Buffer => Buffer.alloc(KEY_BYTES, byte);

/** A keyring holding the keys of `bytes`, the first one primary. */
export function ringOf(...bytes: number[]): Keyring {
  const [first, ...rest] = bytes;
  const ring = Keyring.create(keyOf(first ?? 1));
  for (const b of rest) ring.install(keyOf(b));
  return ring;
}

/** Parts of a hand-made frame; unspecified parts are those of a well-formed frame. */
export interface RawFrame {
  readonly magic?: readonly number[];
  readonly version?: number;
  readonly flags?: number;
  /** Label bytes. */
  readonly label?: string;
  /** Overrides the label length byte. */
  readonly labelLength?: number;
  /** Everything after the label. */
  readonly rest?: Uint8Array;
}

/** Builds a frame byte by byte, to reach the refusals a real sealer never produces. */
export function rawFrame(f: RawFrame): Uint8Array {
  const label = Buffer.from(f.label ?? 'home', 'utf8');
  return Uint8Array.from([...(f.magic ?? [0x43, 0x48]), f.version ?? 1, f.flags ?? 0, f.labelLength ?? label.length, ...label, ...(f.rest ?? [])]);
}

/** The 4 big-endian bytes of `n`. */
export function u32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

/** Offset of the key id in an encrypted frame (or of the length in an insecure one) for a label. */
export const afterLabel = (label: string): number => 5 + Buffer.byteLength(label, 'utf8');
