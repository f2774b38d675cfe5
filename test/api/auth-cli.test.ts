import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_FILE, TokenStore } from '../../src/api/tokens.ts';

// `chorus token create|list|revoke` as an operator runs it: the real command in a child process.

const ROOT = new URL('../../', import.meta.url).pathname;
const CHORUS = join(ROOT, 'bin/chorus.js');

function chorus(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CHORUS, 'token', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
  if (r.error !== undefined) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
let data: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'chorus-token-cli-'));
  data = join(dir, 'data');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('chorus token', () => {
  let created: { id: string; name: string; scopes: string[]; createdAt: string; token: string };

  it('create --json prints the record and the token once; the file holds only a hash, mode 0600', () => {
    const r = chorus(['create', '--name', 'home-assistant', '--scope', 'write', '--data', data, '--json']);
    expect(r.code, r.stderr).toBe(0);
    created = JSON.parse(r.stdout);
    expect(created).toMatchObject({ name: 'home-assistant', scopes: ['write'] });
    expect(created.token).toMatch(new RegExp(`^chorus_${created.id}_[A-Za-z0-9_-]{43}$`));
    const file = join(data, TOKEN_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(data).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, 'utf8')).not.toContain(created.token.slice(16));
    expect(existsSync(join(data, 'tokens.lock'))).toBe(false);
    expect(TokenStore.open(file).verify(created.token)).toMatchObject({ ok: true, token: { id: created.id } });
  });

  it('create without --json prints just the token on stdout and the warning on stderr', () => {
    const r = chorus(['create', '--name', 'grafana', '--scope', 'read', '--data', data]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^chorus_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
    expect(r.stderr).toContain('not shown again');
  });

  it('list shows ids, names, scopes and state, never a secret or hash', () => {
    const json = chorus(['list', '--data', data, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const listed = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(listed.map((t) => [t.name, t.scopes])).toEqual([['home-assistant', ['write']], ['grafana', ['read']]]);
    for (const t of listed) expect(Object.keys(t).sort()).toEqual(['createdAt', 'id', 'name', 'scopes']);
    const human = chorus(['list', '--data', data]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(created.id);
    expect(human.stdout).toContain('home-assistant');
    expect(human.stdout).toContain('active');
    expect(human.stdout + json.stdout).not.toContain(created.token.slice(16));
  });

  it('revoke marks the token revoked (idempotently) and it stops verifying', () => {
    const r = chorus(['revoke', created.id, '--data', data]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`revoked ${created.id}`);
    const again = chorus(['revoke', created.id, '--data', data, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ id: created.id, alreadyRevoked: true });
    expect(chorus(['list', '--data', data]).stdout).toMatch(new RegExp(`${created.id} .*revoked `));
    expect(TokenStore.open(join(data, TOKEN_FILE)).verify(created.token)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('reads the data directory from CHORUS_DATA like chorus start', () => {
    const r = chorus(['list', '--json'], { CHORUS_DATA: data });
    expect(JSON.parse(r.stdout)).toHaveLength(2);
  });

  it('answers bad input with a clear message and exit code 2, changing nothing', () => {
    const before = readFileSync(join(data, TOKEN_FILE), 'utf8');
    const cases: [string[], RegExp][] = [
      [['create', '--name', 'x', '--scope', 'root', '--data', data], /Allowed choices are read, write, admin/],
      [['create', '--scope', 'read', '--data', data], /required option '--name/],
      [['create', '--name', 'x', '--data', data], /--scope/],
      [['create', '--name', '', '--scope', 'read', '--data', data], /name must be 1 to 128/],
      [['revoke', 'zzz', '--data', data], /8 hex characters/],
      [['revoke', '0badcafe', '--data', data], /no token 0badcafe/],
      [['revoke', '--data', data], /missing required argument/],
      [['revoke', '0badcafe', '--data', join(dir, 'nowhere')], /no token 0badcafe/],
    ];
    for (const [args, message] of cases) {
      const r = chorus(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(readFileSync(join(data, TOKEN_FILE), 'utf8')).toBe(before);
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
  });

  it('refuses to read or edit a damaged token file (exit 2), leaving it as it was', () => {
    const bad = join(dir, 'bad');
    chorus(['create', '--name', 'x', '--scope', 'read', '--data', bad]);
    writeFileSync(join(bad, TOKEN_FILE), '{"version":1,"tokens":[{"id":"nope"}]}');
    for (const args of [['list'], ['create', '--name', 'y', '--scope', 'read'], ['revoke', '0badcafe']]) {
      const r = chorus([...args, '--data', bad]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('tokens.json');
      expect(r.stderr).toContain('valid id');
    }
    expect(readFileSync(join(bad, TOKEN_FILE), 'utf8')).toBe('{"version":1,"tokens":[{"id":"nope"}]}');
  });
});

describe('chorus token run concurrently', () => {
  it('several creates at once all succeed: each waits for the edit lock instead of failing', async () => {
    const { spawn } = await import('node:child_process');
    const target = join(dir, 'concurrent');
    const run = (name: string): Promise<number | null> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [CHORUS, 'token', 'create', '--data', target, '--scope', 'read', '--name', name, '--json'], { cwd: ROOT, stdio: 'ignore' });
        child.on('exit', (code) => resolve(code));
      });
    const codes = await Promise.all(['c1', 'c2', 'c3', 'c4'].map(run));
    expect(codes).toEqual([0, 0, 0, 0]);
    const listed = JSON.parse(chorus(['list', '--data', target, '--json']).stdout) as { name: string }[];
    expect(listed.map((t) => t.name).sort()).toEqual(['c1', 'c2', 'c3', 'c4']);
  });
});
