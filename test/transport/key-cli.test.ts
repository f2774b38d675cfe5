import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { Keyring } from '../../src/transport/keyring.ts';
import { keyOf } from './frames.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chorus-key-cli-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `chorus key ...` in-process; returns the exit code and what it printed. */
async function chorus(...args: string[]): Promise<{ code: number; out: string[]; err: string }> {
  const out: string[] = [];
  let err = '';
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (err += `${a.join(' ')}\n`));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  const code = await main(['node', 'chorus', 'key', ...args]);
  vi.restoreAllMocks();
  return { code, out, err };
}

describe('chorus key', () => {
  it('generate creates <data>/keyring.json with mode 0600; the first key is primary; --show prints it', async () => {
    const data = join(dir, 'data');
    const r = await chorus('generate', '--data', data, '--show');
    expect(r.code).toBe(0);
    const [id, key] = r.out;
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    const path = join(data, 'keyring.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const ring = Keyring.load(path);
    expect(ring.primaryId).toBe(id);
    expect(ring.exportKey(id as string)).toBe(key);
  });

  it('generate on an existing keyring adds a non-primary key; list shows ids only', async () => {
    const file = join(dir, 'k.json');
    const first = (await chorus('generate', '--key-file', file)).out[0] as string;
    const second = await chorus('generate', '--key-file', file, '--json');
    const parsed = JSON.parse(second.out[0] as string) as { id: string; primary: boolean; file: string };
    expect(parsed).toEqual({ id: expect.stringMatching(/^[0-9a-f]{8}$/), primary: false, file });
    expect(second.out).toHaveLength(1);
    const listed = await chorus('list', '--key-file', file, '--json');
    expect(JSON.parse(listed.out[0] as string)).toEqual([
      { id: first, primary: true, createdAt: expect.any(String) },
      { id: parsed.id, primary: false, createdAt: expect.any(String) },
    ]);
    const text = await chorus('list', '--key-file', file);
    expect(text.out.join('\n')).not.toContain(Keyring.load(file).exportKey(first));
    expect(text.out[0]).toMatch(new RegExp(`^${first}\\s+primary\\s+\\S+$`));
  });

  it('install (creating the keyring when absent) → use → remove', async () => {
    const file = join(dir, 'k.json');
    const k1 = keyOf(1).toString('base64');
    const k2 = keyOf(2).toString('base64');
    const id1 = (await chorus('install', k1, '--key-file', file)).out[0] as string;
    expect(Keyring.load(file).primaryId).toBe(id1);
    const id2 = (await chorus('install', k2, '--key-file', file)).out[0] as string;
    expect(Keyring.load(file).primaryId).toBe(id1);
    expect((await chorus('use', id2, '--key-file', file)).out).toEqual([`primary: ${id2}`]);
    expect((await chorus('remove', id1, '--key-file', file)).out).toEqual([`removed ${id1}`]);
    expect(Keyring.load(file).list().map((k) => k.id)).toEqual([id2]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  const badInput: readonly [string, (file: string) => string[], RegExp][] = [
    ['a malformed key', (f) => ['install', 'abc', '--key-file', f], /44 characters/],
    ['using an unknown id', (f) => ['use', 'deadbeef', '--key-file', f], /no installed key has id "deadbeef"/],
    ['removing the primary', (f) => ['remove', Keyring.load(f).primaryId, '--key-file', f], /primary key and cannot be removed/],
    ['both --data and --key-file', (f) => ['list', '--key-file', f, '--data', dir], /not both/],
    ['a missing keyring', () => ['list', '--key-file', join(dir, 'absent.json')], /does not exist/],
    ['a missing argument', (f) => ['use', '--key-file', f], /missing required argument/],
  ];

  it.each(badInput)('exits 2 with a clear message on %s', async (_name, args, message) => {
    const file = join(dir, 'k.json');
    await chorus('generate', '--key-file', file);
    const before = readFileSync(file, 'utf8');
    const r = await chorus(...args(file));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(readFileSync(file, 'utf8')).toBe(before); // nothing written
  });

  it('exits 2 naming the file on a corrupt keyring', async () => {
    const file = join(dir, 'k.json');
    writeFileSync(file, '{ not json');
    const r = await chorus('generate', '--key-file', file);
    expect(r.code).toBe(2);
    expect(r.err).toContain(file);
    expect(r.err).toMatch(/not valid JSON/);
    expect(readFileSync(file, 'utf8')).toBe('{ not json'); // never overwritten
  });
});
