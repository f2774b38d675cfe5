import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ChorusError, ErrorCode } from '../core/errors.ts';
import type { Keyring } from './keyring.ts';
import { SessionTable } from './replay.ts';

// Frame layout (all integers big-endian):
//   encrypted: ['C' 'H'][version u8][flags u8 = 1][label len u8][label][key id 4][nonce 12][ciphertext][tag 16]
//   insecure:  ['C' 'H'][version u8][flags u8 = 0][label len u8][label][payload length u32][payload]
// The nonce is a 4-byte random session prefix and an 8-byte counter. The AAD of an encrypted
// frame is its whole header, so the mesh label, key id and nonce are all authenticated.

/** Frame format version; bumped only with a new layout (receivers refuse others as 'bad-version'). */
export const FRAME_VERSION = 1;
/** Flag bit 0: the payload is AES-256-GCM ciphertext. Other bits are reserved and must be 0. */
export const FLAG_ENCRYPTED = 1;
/** Longest mesh label, in UTF-8 bytes. */
export const MAX_LABEL_BYTES = 64;
/** Default largest frame, in bytes (4 MiB): a snapshot chunk with room to spare. */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;
/** Default number of sender sessions whose replay windows are kept (LRU beyond). */
export const DEFAULT_MAX_SESSIONS = 4096;

const MAGIC_0 = 0x43; // 'C'
const MAGIC_1 = 0x48; // 'H'
const PREFIX_BYTES = 5; // magic, version, flags, label length
const KEY_ID_BYTES = 4;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const LENGTH_BYTES = 4;
/** Smallest maxFrameBytes accepted: room for the largest header and a little payload. */
const MIN_MAX_FRAME_BYTES = 256;
/** Largest maxFrameBytes accepted: lengths stay u32 and buffers stay well inside V8's limits. */
const MAX_MAX_FRAME_BYTES = 1024 * 1024 * 1024;
/** Counters start at a random value below 2^62, leaving more than 2^63 frames per session. */
const COUNTER_START_MASK = (1n << 62n) - 1n;

/** Why `open` refused a frame. A fixed set of stable strings: counters and logs key on them. */
export const REJECT_REASONS = [
  'not-bytes',
  'too-short',
  'too-large',
  'bad-magic',
  'bad-version',
  'bad-flags',
  'label-too-long',
  'truncated',
  'trailing-bytes',
  'wrong-mesh',
  'plaintext-refused',
  'encrypted-refused',
  'unknown-key',
  'replay',
  'auth-failed',
] as const;

/** One of REJECT_REASONS. */
export type RejectReason = (typeof REJECT_REASONS)[number];

/** The outcome of `open`: the payload and the sender session it came from, or why it was refused. */
export type OpenResult = { readonly ok: true; readonly payload: Uint8Array; readonly session: string } | { readonly ok: false; readonly reason: RejectReason };

/** What a codec counted since construction. */
export interface FrameCounters {
  readonly sealed: number;
  readonly opened: number;
  /** Refusals by reason; every reason is present. Their sum is the number of refused frames. */
  readonly rejected: Readonly<Record<RejectReason, number>>;
  /** Sender sessions whose replay windows are held now. */
  readonly sessions: number;
  /** Sessions forgotten to stay within maxSessions. */
  readonly sessionsEvicted: number;
}

/** Options of a FrameCodec. */
export interface FrameCodecOptions {
  /** The mesh name, sent as the frame label (1 to 64 UTF-8 bytes). */
  readonly mesh: string;
  /** Keys to seal and open with; null runs insecure (plaintext frames only, each side refusing the other kind). */
  readonly keyring: Keyring | null;
  /** Largest frame sealed or opened (default 4 MiB). */
  readonly maxFrameBytes?: number;
  /** Sender sessions whose replay windows are kept (default 4096). */
  readonly maxSessions?: number;
}

/**
 * Seals payloads to frames; sealing with its own session prefix and counter, so that frames of
 * different sealers never share a nonce and a receiver can tell their streams apart.
 */
export interface FrameSealer {
  /** The session prefix as 8 hex characters ('' for insecure frames): what `open` reports as `session`. */
  readonly session: string;
  /** Seals one payload. Throws CHORUS_FRAME_TOO_LARGE beyond `maxPayloadBytes`. */
  seal(payload: Uint8Array): Uint8Array;
}

/**
 * The frame codec: seals payloads into versioned, mesh-labelled, AES-256-GCM frames and opens
 * frames from peers, refusing (never throwing on) anything malformed, foreign, forged or replayed.
 *
 * Invariants:
 * 1. `open` checks every declared length against the limits before it allocates or decrypts.
 * 2. Only frames that authenticate change replay state, so forgeries cannot evict sessions.
 * 3. Every refusal is counted under exactly one reason.
 */
export class FrameCodec {
  readonly mesh: string;
  readonly maxFrameBytes: number;
  readonly #keyring: Keyring | null;
  readonly #label: Buffer;
  readonly #sessions: SessionTable;
  readonly #rejected: Record<RejectReason, number>;
  readonly #default: FrameSealer;
  #sealed = 0;
  #opened = 0;

  constructor(options: FrameCodecOptions) {
    const { mesh, keyring, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES, maxSessions = DEFAULT_MAX_SESSIONS } = options;
    const label = Buffer.from(typeof mesh === 'string' ? mesh : '', 'utf8');
    if (label.length === 0 || label.length > MAX_LABEL_BYTES) {
      throw new ChorusError(ErrorCode.InvalidConfig, `mesh name must be 1 to ${MAX_LABEL_BYTES} UTF-8 bytes, got ${label.length}`);
    }
    if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < MIN_MAX_FRAME_BYTES || maxFrameBytes > MAX_MAX_FRAME_BYTES) {
      throw new ChorusError(ErrorCode.InvalidConfig, `maxFrameBytes must be an integer from ${MIN_MAX_FRAME_BYTES} to ${MAX_MAX_FRAME_BYTES}, got ${maxFrameBytes}`);
    }
    if (!Number.isSafeInteger(maxSessions) || maxSessions < 1) throw new ChorusError(ErrorCode.InvalidConfig, `maxSessions must be a positive integer, got ${maxSessions}`);
    this.mesh = mesh;
    this.maxFrameBytes = maxFrameBytes;
    this.#keyring = keyring;
    this.#label = label;
    this.#sessions = new SessionTable(maxSessions);
    this.#rejected = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
    this.#default = this.sealer();
  }

  /** True when frames are encrypted (a keyring was given). */
  get secure(): boolean {
    return this.#keyring !== null;
  }

  /** Largest payload `seal` accepts under maxFrameBytes. */
  get maxPayloadBytes(): number {
    return this.maxFrameBytes - this.#headerBytes() - (this.#keyring === null ? 0 : TAG_BYTES);
  }

  /** Seals a payload with this codec's own session. Throws CHORUS_FRAME_TOO_LARGE beyond `maxPayloadBytes`. */
  seal(payload: Uint8Array): Uint8Array {
    return this.#default.seal(payload);
  }

  /** A new sealer with its own random session; a mesh link uses one per connection. */
  sealer(): FrameSealer {
    if (this.#keyring === null) return { session: '', seal: (payload) => this.#sealPlain(payload) };
    const prefix = randomBytes(4);
    let counter = randomBytes(8).readBigUInt64BE() & COUNTER_START_MASK;
    return {
      session: prefix.toString('hex'),
      seal: (payload) => this.#sealEncrypted(payload, prefix, counter++),
    };
  }

  /** Opens a frame: its payload and sender session, or the reason it was refused. Never throws. */
  open(frame: Uint8Array): OpenResult {
    const r = this.#open(frame);
    if (r.ok) this.#opened++;
    else this.#rejected[r.reason]++;
    return r;
  }

  /** What this codec counted since construction. */
  counters(): FrameCounters {
    return { sealed: this.#sealed, opened: this.#opened, rejected: { ...this.#rejected }, sessions: this.#sessions.size, sessionsEvicted: this.#sessions.evicted };
  }

  #headerBytes(): number {
    return PREFIX_BYTES + this.#label.length + (this.#keyring === null ? LENGTH_BYTES : KEY_ID_BYTES + NONCE_BYTES);
  }

  #writePrefix(frame: Buffer, flags: number): number {
    frame[0] = MAGIC_0;
    frame[1] = MAGIC_1;
    frame[2] = FRAME_VERSION;
    frame[3] = flags;
    frame[4] = this.#label.length;
    this.#label.copy(frame, PREFIX_BYTES);
    return PREFIX_BYTES + this.#label.length;
  }

  #checkSize(payload: Uint8Array): void {
    if (payload.length > this.maxPayloadBytes) {
      throw new ChorusError(ErrorCode.FrameTooLarge, `payload of ${payload.length} bytes exceeds the frame limit (${this.maxPayloadBytes} bytes of payload in a ${this.maxFrameBytes}-byte frame)`);
    }
  }

  #sealPlain(payload: Uint8Array): Uint8Array {
    this.#checkSize(payload);
    const frame = Buffer.allocUnsafe(this.#headerBytes() + payload.length);
    const at = this.#writePrefix(frame, 0);
    frame.writeUInt32BE(payload.length, at);
    frame.set(payload, at + LENGTH_BYTES);
    this.#sealed++;
    return frame;
  }

  #sealEncrypted(payload: Uint8Array, prefix: Buffer, counter: bigint): Uint8Array {
    this.#checkSize(payload);
    const { idBytes, key } = (this.#keyring as Keyring).encryptionKey();
    const headerEnd = this.#headerBytes();
    const frame = Buffer.allocUnsafe(headerEnd + payload.length + TAG_BYTES);
    const at = this.#writePrefix(frame, FLAG_ENCRYPTED);
    frame.writeUInt32BE(idBytes, at);
    prefix.copy(frame, at + KEY_ID_BYTES);
    frame.writeBigUInt64BE(counter, at + KEY_ID_BYTES + 4);
    const cipher = createCipheriv('aes-256-gcm', key, frame.subarray(at + KEY_ID_BYTES, headerEnd), { authTagLength: TAG_BYTES });
    cipher.setAAD(frame.subarray(0, headerEnd));
    const body = cipher.update(payload);
    cipher.final(); // GCM emits nothing here
    body.copy(frame, headerEnd);
    cipher.getAuthTag().copy(frame, headerEnd + body.length);
    this.#sealed++;
    return frame;
  }

  #open(frame: Uint8Array): OpenResult {
    if (!(frame instanceof Uint8Array)) return refuse('not-bytes');
    const n = frame.length;
    if (n > this.maxFrameBytes) return refuse('too-large');
    if (n < PREFIX_BYTES) return refuse('too-short');
    if (frame[0] !== MAGIC_0 || frame[1] !== MAGIC_1) return refuse('bad-magic');
    if (frame[2] !== FRAME_VERSION) return refuse('bad-version');
    const flags = frame[3] as number;
    if ((flags & ~FLAG_ENCRYPTED) !== 0) return refuse('bad-flags');
    const labelLength = frame[4] as number;
    if (labelLength > MAX_LABEL_BYTES) return refuse('label-too-long');
    const at = PREFIX_BYTES + labelLength;
    if (at > n) return refuse('truncated');
    if (labelLength !== this.#label.length || this.#label.compare(frame, PREFIX_BYTES, at) !== 0) return refuse('wrong-mesh');
    const encrypted = (flags & FLAG_ENCRYPTED) !== 0;
    if (encrypted && this.#keyring === null) return refuse('encrypted-refused');
    if (!encrypted && this.#keyring !== null) return refuse('plaintext-refused');
    return encrypted ? this.#openEncrypted(frame, at, this.#keyring as Keyring) : this.#openPlain(frame, at);
  }

  #openPlain(frame: Uint8Array, at: number): OpenResult {
    const n = frame.length;
    if (at + LENGTH_BYTES > n) return refuse('truncated');
    const declared = readU32(frame, at);
    if (declared > this.maxFrameBytes) return refuse('too-large');
    const end = at + LENGTH_BYTES + declared;
    if (end > n) return refuse('truncated');
    if (end < n) return refuse('trailing-bytes');
    return { ok: true, payload: frame.subarray(at + LENGTH_BYTES, end), session: '' };
  }

  #openEncrypted(frame: Uint8Array, at: number, keyring: Keyring): OpenResult {
    const n = frame.length;
    const headerEnd = at + KEY_ID_BYTES + NONCE_BYTES;
    if (headerEnd + TAG_BYTES > n) return refuse('truncated');
    const codecKey = keyring.decryptionKey(readU32(frame, at));
    if (codecKey === undefined) return refuse('unknown-key');
    const prefix = readU32(frame, at + KEY_ID_BYTES);
    const counter = (BigInt(readU32(frame, at + KEY_ID_BYTES + 4)) << 32n) | BigInt(readU32(frame, at + KEY_ID_BYTES + 8));
    // Windows are per (key, session): nonces are unique per key, and a rotated key starts afresh.
    const windowKey = `${codecKey.idBytes}:${prefix}`;
    if (this.#sessions.check(windowKey, counter) !== 'fresh') return refuse('replay');
    let payload: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', codecKey.key, frame.subarray(at + KEY_ID_BYTES, headerEnd), { authTagLength: TAG_BYTES });
      decipher.setAAD(frame.subarray(0, headerEnd));
      decipher.setAuthTag(frame.subarray(n - TAG_BYTES, n));
      payload = decipher.update(frame.subarray(headerEnd, n - TAG_BYTES));
      decipher.final();
    } catch {
      return refuse('auth-failed');
    }
    this.#sessions.commit(windowKey, counter);
    return { ok: true, payload, session: prefix.toString(16).padStart(8, '0') };
  }
}

const REFUSALS = Object.fromEntries(REJECT_REASONS.map((reason) => [reason, Object.freeze({ ok: false, reason })])) as unknown as Record<RejectReason, OpenResult>;

function refuse(reason: RejectReason): OpenResult {
  return REFUSALS[reason];
}

function readU32(b: Uint8Array, at: number): number {
  return (((b[at] as number) << 24) | ((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number)) >>> 0;
}
