import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isChorusError } from '../../src/core/errors.ts';
import { createToken, grants, listTokens, parseToken, readTokenFile, revokeToken, TOKEN_FILE, TokenStore, type Scope, type TokenMint } from '../../src/api/tokens.ts';

// The token file: what is stored (hashes, never secrets), its mode, round trips, damaged
// files, and the scope order.

/** A fixed clock and counting randomness: the same tokens every run. */
function fixedMint(start: number): TokenMint {
  let n = start;
  return {
    now: new Date('2025-01-02T03:04:05.000Z'),
    random: (bytes) => {
      n++;
      return Buffer.from(Array.from({ length: bytes }, (_, i) => (n * 37 + i * 11) & 0xff));
    },
  };
}

function expectCode(fn: () => unknown, code: string, text?: string): void {
  try {
    fn();
  } catch (e) {
    expect(isChorusError(e), String(e)).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    if (text !== undefined) expect((e as Error).message).toContain(text);
    return;
  }
  throw new Error(`expected ${code}`);
}

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chorus-tokens-'));
  file = join(dir, TOKEN_FILE);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('token file', () => {
  it('round-trips records, stores only a hash of the secret, mode 0600, no temporary files left', () => {
    const a = createToken(file, { name: 'home-assistant', scopes: ['write'] }, fixedMint(1));
    const b = createToken(file, { name: 'grafana', scopes: ['read'] }, fixedMint(2));
    expect(a.token).toMatch(/^chorus_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
    expect(a.record).toEqual({ id: a.token.slice(7, 15), name: 'home-assistant', scopes: ['write'], createdAt: '2025-01-02T03:04:05.000Z' });
    expect(listTokens(file)).toEqual([a.record, b.record]);
    const text = readFileSync(file, 'utf8');
    const secret = parseToken(a.token)?.secret as string;
    expect(text).not.toContain(secret);
    expect(readTokenFile(file)[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual([TOKEN_FILE]);
  });

  it('verifies a token against the file; a wrong secret, an unknown id and a revoked token fail', () => {
    const a = createToken(file, { name: 'a', scopes: ['admin'] });
    const store = TokenStore.open(file);
    const ok = store.verify(a.token);
    expect(ok).toEqual({ ok: true, token: a.record });
    const secret = parseToken(a.token)?.secret as string;
    const flipped = `${a.token.slice(0, 15)}_${secret[0] === 'A' ? 'B' : 'A'}${secret.slice(1)}`;
    expect(store.verify(flipped)).toEqual({ ok: false, reason: 'invalid' });
    expect(store.verify(`chorus_ffffffff_${secret}`)).toEqual({ ok: false, reason: 'invalid' });
    for (const bad of ['', 'chorus_', a.token.toUpperCase(), `${a.token}x`, ` ${a.token}`, a.token.replace('chorus_', 'chorux_')]) expect(store.verify(bad), bad).toEqual({ ok: false, reason: 'malformed' });
    const r = revokeToken(file, a.record.id, new Date('2025-02-01T00:00:00.000Z'));
    expect(r).toEqual({ already: false, record: { ...a.record, revokedAt: '2025-02-01T00:00:00.000Z' } });
    expect(store.verify(a.token)).toEqual({ ok: false, reason: 'invalid' });
    expect(revokeToken(file, a.record.id.toUpperCase()).already).toBe(true);
    expect(listTokens(file)[0]?.revokedAt).toBe('2025-02-01T00:00:00.000Z');
  });

  it('parses tokens whose secret holds underscores', () => {
    const secret = `ab_${'c'.repeat(38)}_d`;
    expect(parseToken(`chorus_0123abcd_${secret}`)).toEqual({ id: '0123abcd', secret });
  });

  it('never hands out an id twice', () => {
    const same: TokenMint = { now: new Date(0), random: (n) => (n === 4 ? Buffer.from('00000001', 'hex') : Buffer.alloc(n, 1)) };
    createToken(file, { name: 'one', scopes: ['read'] }, same);
    let calls = 0;
    const second: TokenMint = { now: new Date(0), random: (n) => (n === 4 ? Buffer.from(calls++ === 0 ? '00000001' : '00000002', 'hex') : Buffer.alloc(n, 2)) };
    expect(createToken(file, { name: 'two', scopes: ['read'] }, second).record.id).toBe('00000002');
  });

  it('refuses bad requests with CHORUS_INVALID_TOKEN_REQUEST and unknown ids with CHORUS_TOKEN_NOT_FOUND', () => {
    expectCode(() => createToken(file, { name: '', scopes: ['read'] }), 'CHORUS_INVALID_TOKEN_REQUEST', 'name');
    expectCode(() => createToken(file, { name: 'x'.repeat(129), scopes: ['read'] }), 'CHORUS_INVALID_TOKEN_REQUEST', 'name');
    expectCode(() => createToken(file, { name: 'a\nb', scopes: ['read'] }), 'CHORUS_INVALID_TOKEN_REQUEST', 'control');
    expectCode(() => createToken(file, { name: 'ok', scopes: ['root'] }), 'CHORUS_INVALID_TOKEN_REQUEST', 'read, write, admin');
    expectCode(() => createToken(file, { name: 'ok', scopes: [] }), 'CHORUS_INVALID_TOKEN_REQUEST', 'scope');
    expectCode(() => revokeToken(file, 'nothex!!'), 'CHORUS_INVALID_TOKEN_REQUEST');
    expectCode(() => revokeToken(file, '0badcafe'), 'CHORUS_TOKEN_NOT_FOUND', '0badcafe');
    expect(() => readdirSync(dir)).not.toThrow();
    expect(readdirSync(dir)).toEqual([]); // nothing written by refused requests
  });

  it('treats a missing file as no tokens and refuses damaged ones, naming the problem', () => {
    expect(listTokens(file)).toEqual([]);
    const valid = { id: '0123abcd', name: 'n', scopes: ['read'], createdAt: 'x', hash: 'a'.repeat(64) };
    const damaged: [string, string][] = [
      ['{', 'not valid JSON'],
      ['[]', 'must hold an object'],
      ['{"version":2,"tokens":[]}', 'version 2'],
      ['{"version":1}', 'no tokens list'],
      [JSON.stringify({ version: 1, tokens: [{ ...valid, id: 'XYZ' }] }), 'valid id'],
      [JSON.stringify({ version: 1, tokens: [{ ...valid, scopes: ['root'] }] }), 'scopes'],
      [JSON.stringify({ version: 1, tokens: [{ ...valid, scopes: [] }] }), 'scopes'],
      [JSON.stringify({ version: 1, tokens: [{ ...valid, hash: 'short' }] }), 'hash'],
      [JSON.stringify({ version: 1, tokens: [{ ...valid, revokedAt: 5 }] }), 'revokedAt'],
      [JSON.stringify({ version: 1, tokens: [valid, valid] }), 'twice'],
    ];
    for (const [text, problem] of damaged) {
      writeFileSync(file, text);
      expectCode(() => listTokens(file), 'CHORUS_TOKEN_FILE_INVALID', problem);
      // A node does not start on a damaged file, and edits refuse to overwrite it.
      expectCode(() => TokenStore.open(file), 'CHORUS_TOKEN_FILE_INVALID', problem);
      expectCode(() => createToken(file, { name: 'n', scopes: ['read'] }), 'CHORUS_TOKEN_FILE_INVALID');
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
  });

  it('re-reads the file when another process replaces it (new inode), also within one mtime tick', () => {
    const store = TokenStore.open(file);
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      made.push(createToken(file, { name: `t${i}`, scopes: ['read'] }).token);
      expect(made.every((t) => store.verify(t).ok)).toBe(true);
    }
    rmSync(file);
    expect(store.verify(made[0] as string).ok).toBe(false);
  });
});

describe('scopes', () => {
  it('order read ⊂ write ⊂ admin', () => {
    const table: [Scope[], Scope, boolean][] = [
      [['read'], 'read', true], [['read'], 'write', false], [['read'], 'admin', false],
      [['write'], 'read', true], [['write'], 'write', true], [['write'], 'admin', false],
      [['admin'], 'read', true], [['admin'], 'write', true], [['admin'], 'admin', true],
      [[], 'read', false], [['read', 'admin'], 'write', true],
    ];
    for (const [held, needed, ok] of table) expect(grants(held, needed), `${held.join('+')} → ${needed}`).toBe(ok);
  });
});
