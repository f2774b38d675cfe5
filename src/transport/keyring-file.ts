import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ChorusError, ErrorCode } from '../core/errors.ts';

/** A keyring file's content once validated: keys decoded, nothing else trusted yet. */
export interface KeyringFile {
  readonly primary: string;
  readonly keys: readonly { readonly key: Buffer; readonly createdAt: string }[];
}

/** Largest keyring file read: 1000 keys fit many times over; anything bigger is not a keyring. */
const MAX_FILE_BYTES = 1024 * 1024;
const KEY_BYTES = 32;

/**
 * Reads and validates a keyring file. Throws CHORUS_KEYRING_NOT_FOUND when it does not exist and
 * CHORUS_KEYRING_INVALID naming the file and the first problem (bad JSON, a wrong key length, an
 * id that does not match its key...).
 */
export function readKeyringFile(path: string): KeyringFile {
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_FILE_BYTES) bad(path, `the file is ${bytes.length} bytes, more than a keyring can be (${MAX_FILE_BYTES})`);
    text = bytes.toString('utf8');
  } catch (e) {
    if (e instanceof ChorusError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ChorusError(ErrorCode.KeyringNotFound, `keyring ${path} does not exist (create one with: chorus key generate)`);
    bad(path, `cannot be read (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    bad(path, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad(path, 'not a JSON object { primary, keys }');
  const { primary, keys } = json as { primary?: unknown; keys?: unknown };
  if (typeof primary !== 'string') bad(path, '"primary" must be a key id string');
  if (!Array.isArray(keys)) bad(path, '"keys" must be an array');
  if (keys.length === 0) bad(path, '"keys" is empty: a keyring holds at least its primary key');
  return { primary: primary.toLowerCase(), keys: keys.map((k, i) => readKey(path, k, i)) };
}

function readKey(path: string, k: unknown, i: number): { key: Buffer; createdAt: string } {
  const where = `keys[${i}]`;
  if (typeof k !== 'object' || k === null || Array.isArray(k)) bad(path, `${where} must be an object { id, key, createdAt }`);
  const { id, key, createdAt } = k as { id?: unknown; key?: unknown; createdAt?: unknown };
  if (typeof key !== 'string') bad(path, `${where}.key must be a base64 string`);
  const raw = Buffer.from(key, 'base64');
  if (raw.toString('base64') !== key) bad(path, `${where}.key is not canonical base64`);
  if (raw.length !== KEY_BYTES) bad(path, `${where}.key is ${raw.length} bytes, a mesh key is ${KEY_BYTES}`);
  const actual = createHash('sha256').update(raw).digest('hex').slice(0, 8);
  if (id !== actual) bad(path, `${where}.id is ${JSON.stringify(id)} but the key's id is ${actual} (edited or corrupted)`);
  if (typeof createdAt !== 'string') bad(path, `${where}.createdAt must be a string`);
  return { key: raw, createdAt };
}

function bad(path: string, problem: string): never {
  throw new ChorusError(ErrorCode.KeyringInvalid, `keyring ${path}: ${problem}`);
}

/**
 * Replaces `path` with `text` atomically: a temp file in the same directory, mode 0600, fsynced,
 * renamed over the target, then the directory fsynced so the rename survives a power cut.
 * The directory is created (mode 0700) when missing.
 */
export function writeFileAtomic(path: string, text: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600); // the umask may have cleared bits; never let it add any
    const bytes = Buffer.from(text, 'utf8');
    let at = 0;
    while (at < bytes.length) at += writeSync(fd, bytes, at);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dir);
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
