import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isChorusError } from '../../src/core/errors.ts';
import { KEY_BYTES, keyId, Keyring, parseKey } from '../../src/transport/keyring.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chorus-keyring-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Asserts that `f` throws a ChorusError with `code` whose message matches every pattern. */
function expectError(f: () => unknown, code: string, ...patterns: (string | RegExp)[]): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(isChorusError(caught), `expected a ChorusError ${code}, got ${String(caught)}`).toBe(true);
  const e = caught as { code: string; message: string };
  expect(e.code).toBe(code);
  for (const p of patterns) expect(e.message).toMatch(p);
}

describe('keyring', () => {
  it('creates a keyring whose first key is primary, with an 8-hex id from SHA-256', () => {
    const key = Buffer.alloc(KEY_BYTES, 7);
    const ring = Keyring.create(key);
    expect(ring.primaryId).toBe(keyId(key));
    expect(ring.primaryId).toMatch(/^[0-9a-f]{8}$/);
    expect(ring.list()).toEqual([{ id: keyId(key), createdAt: expect.any(String), primary: true }]);
  });

  it('generate → install → use → remove rotates the primary', () => {
    const ring = Keyring.create();
    const first = ring.primaryId;
    const generated = ring.generate();
    expect(generated.primary).toBe(false);
    const other = Buffer.alloc(KEY_BYTES, 9);
    const installed = ring.install(other.toString('base64'));
    expect(installed).toEqual({ id: keyId(other), createdAt: expect.any(String), primary: false });
    expect(ring.install(other).id).toBe(installed.id); // installing again changes nothing
    expect(ring.list()).toHaveLength(3);
    ring.use(generated.id);
    expect(ring.primaryId).toBe(generated.id);
    ring.remove(first);
    ring.remove(installed.id.toUpperCase()); // ids are case-insensitive on input
    expect(ring.list().map((k) => k.id)).toEqual([generated.id]);
    expect(ring.has(first)).toBe(false);
  });

  it('refuses to remove the primary key, and names the way out', () => {
    const ring = Keyring.create();
    ring.generate();
    expectError(() => ring.remove(ring.primaryId), ErrorCode.PrimaryKeyRemoval, ring.primaryId, /chorus key use/);
    expect(ring.list()).toHaveLength(2);
  });

  it('refuses unknown ids and malformed keys', () => {
    const ring = Keyring.create();
    expectError(() => ring.use('deadbeef'), ErrorCode.KeyNotFound, /deadbeef/);
    expectError(() => ring.remove('nope'), ErrorCode.KeyNotFound, /8 hex characters/);
    expectError(() => ring.install('not base64!'), ErrorCode.InvalidKey, /44 characters/);
    expectError(() => ring.install(Buffer.alloc(16).toString('base64')), ErrorCode.InvalidKey, /44 characters/);
    expectError(() => ring.install(new Uint8Array(31)), ErrorCode.InvalidKey, /32 bytes, got 31/);
    expectError(() => parseKey(`${Buffer.alloc(32, 1).toString('base64').slice(0, 43)}`), ErrorCode.InvalidKey);
  });

  it('saves atomically with mode 0600 and loads back the same keys', () => {
    const ring = Keyring.create();
    const second = ring.generate();
    ring.use(second.id);
    const path = join(dir, 'sub', 'keyring.json');
    ring.save(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'sub')).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['keyring.json']); // no temp file left behind
    const loaded = Keyring.load(path);
    expect(loaded.list()).toEqual(ring.list());
    expect(loaded.exportKey(second.id)).toBe(ring.exportKey(second.id));
    const json = JSON.parse(readFileSync(path, 'utf8')) as { primary: string; keys: { id: string; key: string; createdAt: string }[] };
    expect(json.primary).toBe(second.id);
    expect(json.keys.map((k) => Object.keys(k).sort())).toEqual([
      ['createdAt', 'id', 'key'],
      ['createdAt', 'id', 'key'],
    ]);
  });

  it('keeps mode 0600 when overwriting a file that was world-readable', () => {
    const path = join(dir, 'keyring.json');
    writeFileSync(path, 'old', { mode: 0o644 });
    Keyring.create().save(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('names a missing file', () => {
    const path = join(dir, 'absent.json');
    expectError(() => Keyring.load(path), ErrorCode.KeyringNotFound, path, /chorus key generate/);
  });

  const good = Keyring.create(Buffer.alloc(KEY_BYTES, 1));
  const goodJson = good.toJSON();
  const goodKey = goodJson.keys[0] as { id: string; key: string; createdAt: string };
  const corrupt: readonly [string, string, RegExp][] = [
    ['bad JSON', '{"primary": "abc", ', /not valid JSON/],
    ['not an object', '[1, 2]', /not a JSON object/],
    ['no primary', JSON.stringify({ keys: goodJson.keys }), /"primary" must be/],
    ['keys not an array', JSON.stringify({ primary: goodKey.id, keys: {} }), /"keys" must be an array/],
    ['no keys', JSON.stringify({ primary: goodKey.id, keys: [] }), /"keys" is empty/],
    ['a 16-byte key', JSON.stringify({ primary: goodKey.id, keys: [{ ...goodKey, key: Buffer.alloc(16, 1).toString('base64') }] }), /keys\[0\]\.key is 16 bytes, a mesh key is 32/],
    ['a key that is not base64', JSON.stringify({ primary: goodKey.id, keys: [{ ...goodKey, key: '!!!!' }] }), /keys\[0\]\.key is not canonical base64/],
    ['an id that does not match its key', JSON.stringify({ primary: 'deadbeef', keys: [{ ...goodKey, id: 'deadbeef' }] }), /keys\[0\]\.id is "deadbeef" but the key's id is/],
    ['a primary that is not installed', JSON.stringify({ primary: 'deadbeef', keys: [goodKey] }), /primary key deadbeef is not one of the installed keys/],
    ['a key listed twice', JSON.stringify({ primary: goodKey.id, keys: [goodKey, goodKey] }), /listed twice/],
    ['no createdAt', JSON.stringify({ primary: goodKey.id, keys: [{ id: goodKey.id, key: goodKey.key }] }), /createdAt must be a string/],
  ];

  it.each(corrupt)('refuses a corrupt file: %s', (_name, text, pattern) => {
    const path = join(dir, 'keyring.json');
    writeFileSync(path, text);
    expectError(() => Keyring.load(path), ErrorCode.KeyringInvalid, path, pattern);
  });
});
