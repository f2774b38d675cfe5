import { createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { ChorusError, ErrorCode } from '../core/errors.ts';
import { readKeyringFile, writeFileAtomic } from './keyring-file.ts';

/** Bytes in a mesh key (AES-256). */
export const KEY_BYTES = 32;

/** What a keyring tells about one installed key; never the key material itself. */
export interface KeyInfo {
  /** First 8 hex characters of the key's SHA-256: its name on the wire and on the command line. */
  readonly id: string;
  /** ISO-8601 time the key was generated or installed here. */
  readonly createdAt: string;
  /** True for the key that encrypts. */
  readonly primary: boolean;
}

/** A key as the frame codec uses it: the 4-byte id as an integer and a ready AES key. */
export interface CodecKey {
  readonly idBytes: number;
  readonly key: KeyObject;
}

interface Entry {
  readonly id: string;
  readonly idBytes: number;
  readonly raw: Buffer;
  readonly key: KeyObject;
  readonly createdAt: string;
}

const KEY_ID_RE = /^[0-9a-f]{8}$/;
const BASE64_KEY_RE = /^[A-Za-z0-9+/]{43}=$/;

/** The id of a key: the first 8 hex characters of its SHA-256. */
export function keyId(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/**
 * Decodes a key given as base64 (44 characters, 32 bytes). Throws CHORUS_INVALID_KEY naming
 * what is wrong, never echoing the input, which may be a real key with a typo.
 */
export function parseKey(base64: string): Buffer {
  const s = base64.trim();
  if (!BASE64_KEY_RE.test(s)) {
    throw new ChorusError(ErrorCode.InvalidKey, `a mesh key is ${KEY_BYTES} bytes written as 44 characters of base64 ending in "="; got ${s.length} characters`);
  }
  return Buffer.from(s, 'base64');
}

/**
 * An AES-256-GCM keyring, rotated as Serf's is: the primary key encrypts, every installed key
 * decrypts. Rotation is install (everywhere) → use (everywhere) → remove (everywhere).
 *
 * Invariants:
 * 1. A keyring holds at least one key, and its primary is one of them.
 * 2. Ids are unique: installing a different key whose id collides is refused.
 * 3. The primary cannot be removed; `use` another key first.
 */
export class Keyring {
  readonly #byId = new Map<string, Entry>();
  readonly #byIdBytes = new Map<number, Entry>();
  #primary: Entry;

  private constructor(first: Entry) {
    this.#primary = first;
    this.#add(first);
  }

  /** A keyring holding `key` (default: 32 fresh random bytes) as its primary. */
  static create(key: Uint8Array = randomBytes(KEY_BYTES), createdAt = new Date().toISOString()): Keyring {
    return new Keyring(makeEntry(key, createdAt));
  }

  /** Loads a keyring file; throws CHORUS_KEYRING_NOT_FOUND or CHORUS_KEYRING_INVALID naming the file and the problem. */
  static load(path: string): Keyring {
    const file = readKeyringFile(path);
    const [first, ...rest] = file.keys;
    if (first === undefined) throw new ChorusError(ErrorCode.KeyringInvalid, `keyring ${path}: "keys" is empty`);
    const ring = new Keyring(makeEntry(first.key, first.createdAt));
    for (const k of rest) {
      if (ring.#byId.has(keyId(k.key))) throw new ChorusError(ErrorCode.KeyringInvalid, `keyring ${path}: key ${keyId(k.key)} is listed twice`);
      ring.#add(makeEntry(k.key, k.createdAt));
    }
    const primary = ring.#byId.get(file.primary);
    if (primary === undefined) throw new ChorusError(ErrorCode.KeyringInvalid, `keyring ${path}: primary key ${file.primary} is not one of the installed keys`);
    ring.#primary = primary;
    return ring;
  }

  /** Writes the keyring to `path` atomically (temp file, fsync, rename) with mode 0600. */
  save(path: string): void {
    writeFileAtomic(path, `${JSON.stringify(this.toJSON(), null, 2)}\n`);
  }

  /** The persisted form: `{ primary, keys: [{ id, key (base64), createdAt }] }`. */
  toJSON(): { primary: string; keys: { id: string; key: string; createdAt: string }[] } {
    return {
      primary: this.#primary.id,
      keys: [...this.#byId.values()].map((e) => ({ id: e.id, key: e.raw.toString('base64'), createdAt: e.createdAt })),
    };
  }

  /** Installs 32 fresh random bytes as a new (non-primary) key and describes it. */
  generate(): KeyInfo {
    return this.install(randomBytes(KEY_BYTES));
  }

  /**
   * Installs a key (raw bytes or base64) so frames sealed with it open here. Installing a key
   * already present changes nothing. Throws CHORUS_INVALID_KEY for a malformed key or an id collision.
   */
  install(key: Uint8Array | string, createdAt = new Date().toISOString()): KeyInfo {
    const raw = typeof key === 'string' ? parseKey(key) : Buffer.from(key);
    const entry = makeEntry(raw, createdAt);
    const existing = this.#byId.get(entry.id) ?? this.#byIdBytes.get(entry.idBytes);
    if (existing !== undefined) {
      if (!existing.raw.equals(raw)) throw new ChorusError(ErrorCode.InvalidKey, `key id ${entry.id} collides with a different installed key; generate another key`);
      return this.#info(existing);
    }
    this.#add(entry);
    return this.#info(entry);
  }

  /** Makes an installed key the primary (the one that encrypts). Throws CHORUS_KEY_NOT_FOUND. */
  use(id: string): void {
    this.#primary = this.#get(id);
  }

  /** Removes an installed key. Throws CHORUS_KEY_NOT_FOUND, or CHORUS_PRIMARY_KEY_REMOVAL for the primary. */
  remove(id: string): void {
    const entry = this.#get(id);
    if (entry === this.#primary) {
      throw new ChorusError(ErrorCode.PrimaryKeyRemoval, `key ${entry.id} is the primary key and cannot be removed; make another key primary first (chorus key use <id>)`);
    }
    this.#byId.delete(entry.id);
    this.#byIdBytes.delete(entry.idBytes);
  }

  /** Every installed key, oldest first (by install order). */
  list(): KeyInfo[] {
    return [...this.#byId.values()].map((e) => this.#info(e));
  }

  /** The primary key's id. */
  get primaryId(): string {
    return this.#primary.id;
  }

  /** Whether a key with this id is installed. */
  has(id: string): boolean {
    return this.#byId.has(id.toLowerCase());
  }

  /** The base64 form of an installed key, to install it on another node. Throws CHORUS_KEY_NOT_FOUND. */
  exportKey(id: string): string {
    return this.#get(id).raw.toString('base64');
  }

  /** The key frames are sealed with (for the frame codec). */
  encryptionKey(): CodecKey {
    return this.#primary;
  }

  /** The installed key whose 4-byte id is `idBytes`, or undefined (for the frame codec). */
  decryptionKey(idBytes: number): CodecKey | undefined {
    return this.#byIdBytes.get(idBytes);
  }

  #add(e: Entry): void {
    this.#byId.set(e.id, e);
    this.#byIdBytes.set(e.idBytes, e);
  }

  #get(id: string): Entry {
    const normalized = id.trim().toLowerCase();
    const entry = this.#byId.get(normalized);
    if (entry !== undefined) return entry;
    const hint = KEY_ID_RE.test(normalized) ? '' : ' (an id is 8 hex characters, as `chorus key list` shows)';
    throw new ChorusError(ErrorCode.KeyNotFound, `no installed key has id ${JSON.stringify(id)}${hint}`);
  }

  #info(e: Entry): KeyInfo {
    return { id: e.id, createdAt: e.createdAt, primary: e === this.#primary };
  }
}

function makeEntry(key: Uint8Array, createdAt: string): Entry {
  if (key.length !== KEY_BYTES) throw new ChorusError(ErrorCode.InvalidKey, `a mesh key is ${KEY_BYTES} bytes, got ${key.length}`);
  const raw = Buffer.from(key);
  const id = keyId(raw);
  return { id, idBytes: Number.parseInt(id, 16), raw, key: createSecretKey(raw), createdAt };
}
