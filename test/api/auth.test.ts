import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decideAccess, isLoopbackAddress, registerAuth, type UpgradeAuthorizer } from '../../src/api/auth.ts';
import { createToken, revokeToken, TOKEN_FILE, TokenStore } from '../../src/api/tokens.ts';

// The auth hook on a tiny app shaped like the node's (routes declared before the hook, as
// buildHttp does), driven by inject: `remoteAddress` plays loopback and LAN clients.

const LAN = '192.168.1.20';
const LOOPBACKS = ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'];

/**
 * Untagged (read), write- and admin-tagged routes, a mistyped tag, and the public probes and
 * docs; returns the app and the upgrade check registerAuth made.
 */
function taggedApp(file: string, loopbackOpen: boolean): { app: FastifyInstance; authorizeUpgrade: UpgradeAuthorizer } {
  const app = Fastify();
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => ({ ready: true }));
  app.get('/openapi.json', async () => ({ openapi: '3.0.3' }));
  app.get('/docs', async () => 'docs');
  app.get('/docs/static/app.js', async () => 'js');
  app.get('/api/v1/objects/:id', async (req) => ({ read: true, principal: req.principal }));
  app.patch('/api/v1/objects/:id', { config: { scope: 'write' } }, async () => ({ wrote: true }));
  app.get('/api/v1/admin', { config: { scope: 'admin' } }, async () => ({ admin: true }));
  app.get('/api/v1/mistyped', { config: { scope: 'wirte' as 'write' } }, async () => ({ open: true }));
  const { authorizeUpgrade } = registerAuth(app, { tokens: TokenStore.open(file), loopbackOpen });
  return { app, authorizeUpgrade };
}

const READ: InjectOptions = { method: 'GET', url: '/api/v1/objects/lamp' };
const WRITE: InjectOptions = { method: 'PATCH', url: '/api/v1/objects/lamp', payload: { on: true } };
const ADMIN: InjectOptions = { method: 'GET', url: '/api/v1/admin' };

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

let dir: string;
let file: string;
let tokens: { read: string; write: string; admin: string; revoked: string; revokedId: string };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chorus-auth-'));
  file = join(dir, TOKEN_FILE);
  const make = (scope: string): { token: string; id: string } => {
    const m = createToken(file, { name: `${scope}-token`, scopes: [scope] });
    return { token: m.token, id: m.record.id };
  };
  const revoked = make('admin');
  revokeToken(file, revoked.id);
  tokens = { read: make('read').token, write: make('write').token, admin: make('admin').token, revoked: revoked.token, revokedId: revoked.id };
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('auth hook: who gets in', () => {
  it('lets loopback clients in without a token when loopback is open, on every scope', async () => {
    const { app } = taggedApp(file, true);
    for (const remoteAddress of LOOPBACKS) {
      for (const req of [READ, WRITE, ADMIN]) expect((await app.inject({ ...req, remoteAddress })).statusCode, `${remoteAddress} ${req.method} ${req.url}`).toBe(200);
    }
    expect((await app.inject({ ...READ, remoteAddress: '127.0.0.1' })).json().principal).toEqual({ kind: 'loopback' });
  });

  it('needs a token from every other client, and from loopback when loopback is closed', async () => {
    for (const [open, remoteAddress] of [[true, LAN], [true, '10.0.0.1'], [true, '::ffff:10.0.0.1'], [true, 'fe80::1'], [false, '127.0.0.1'], [false, '::1']] as const) {
      const { app } = taggedApp(file, open);
      for (const req of [READ, WRITE, ADMIN]) {
        const res = await app.inject({ ...req, remoteAddress });
        expect(res.statusCode, `open=${open} ${remoteAddress} ${req.method} ${req.url}`).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer realm="chorus"');
        expect(res.json().error.code).toBe('CHORUS_UNAUTHORIZED');
        expect(res.json().error.message).toContain('chorus token create');
      }
    }
  });

  it('refuses no, wrong, malformed and revoked tokens (401) and an under-scoped one (403)', async () => {
    const { app } = taggedApp(file, false);
    const [id] = /chorus_([0-9a-f]{8})_/.exec(tokens.write)?.slice(1) ?? [];
    const wrongSecret = `chorus_${id}_${'A'.repeat(43)}`;
    const unknownId = `chorus_00000000_${'A'.repeat(43)}`;
    const cases: [string, Record<string, string>, number, string][] = [
      ['no token', {}, 401, 'CHORUS_UNAUTHORIZED'],
      ['wrong secret', bearer(wrongSecret), 401, 'CHORUS_UNAUTHORIZED'],
      ['unknown id', bearer(unknownId), 401, 'CHORUS_UNAUTHORIZED'],
      ['malformed token', bearer('chorus_nothex!!_abc'), 401, 'CHORUS_UNAUTHORIZED'],
      ['truncated token', bearer(tokens.write.slice(0, -1)), 401, 'CHORUS_UNAUTHORIZED'],
      ['other scheme', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, 401, 'CHORUS_UNAUTHORIZED'],
      ['revoked token', bearer(tokens.revoked), 401, 'CHORUS_UNAUTHORIZED'],
      ['under-scoped token', bearer(tokens.read), 403, 'CHORUS_FORBIDDEN'],
      ['right scope', bearer(tokens.write), 200, ''],
    ];
    for (const [what, headers, status, code] of cases) {
      const res = await app.inject({ ...WRITE, remoteAddress: LAN, headers });
      expect(res.statusCode, what).toBe(status);
      if (status !== 200) {
        expect(res.json().error.code, what).toBe(code);
        expect(res.headers['www-authenticate'], what).toMatch(/^Bearer realm="chorus"/);
      }
    }
    const forbidden = await app.inject({ ...WRITE, remoteAddress: LAN, headers: bearer(tokens.read) });
    expect(forbidden.json().error.message).toContain("needs scope 'write'");
    expect(forbidden.headers['www-authenticate']).toBe('Bearer realm="chorus", error="insufficient_scope", scope="write"');
    expect((await app.inject({ ...WRITE, remoteAddress: LAN, headers: bearer(tokens.revoked) })).headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('admin implies write implies read', async () => {
    const { app } = taggedApp(file, false);
    const expected: Record<'read' | 'write' | 'admin', [number, number, number]> = { read: [200, 403, 403], write: [200, 200, 403], admin: [200, 200, 200] };
    for (const [scope, statuses] of Object.entries(expected) as [keyof typeof expected, [number, number, number]][]) {
      const got = [];
      for (const req of [READ, WRITE, ADMIN]) got.push((await app.inject({ ...req, remoteAddress: LAN, headers: bearer(tokens[scope]) })).statusCode);
      expect(got, scope).toEqual(statuses);
    }
    const res = await app.inject({ ...READ, remoteAddress: LAN, headers: bearer(tokens.write) });
    expect(res.json().principal).toMatchObject({ kind: 'token', token: { name: 'write-token', scopes: ['write'] } });
    expect(JSON.stringify(res.json().principal)).not.toContain('hash');
  });

  it('checks a token presented from loopback even when loopback is open', async () => {
    const { app } = taggedApp(file, true);
    expect((await app.inject({ ...READ, remoteAddress: '127.0.0.1', headers: bearer(`chorus_00000000_${'A'.repeat(43)}`) })).statusCode).toBe(401);
    expect((await app.inject({ ...READ, remoteAddress: '127.0.0.1', headers: bearer('garbage') })).statusCode).toBe(401);
    expect((await app.inject({ ...READ, remoteAddress: '127.0.0.1', headers: bearer(tokens.revoked) })).statusCode).toBe(401);
    expect((await app.inject({ ...WRITE, remoteAddress: '127.0.0.1', headers: bearer(tokens.read) })).statusCode).toBe(403);
    expect((await app.inject({ ...WRITE, remoteAddress: '127.0.0.1', headers: bearer(tokens.write) })).statusCode).toBe(200);
  });

  it('keeps probes and API docs public; everything else, unknown paths included, needs a token', async () => {
    const { app } = taggedApp(file, false);
    for (const url of ['/healthz', '/readyz', '/openapi.json', '/docs', '/docs/static/app.js']) expect((await app.inject({ url, remoteAddress: LAN })).statusCode, url).toBe(200);
    // An unknown path does not tell a stranger whether it exists.
    expect((await app.inject({ url: '/api/v1/secret-route', remoteAddress: LAN })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/v1/secret-route', remoteAddress: LAN, headers: bearer(tokens.read) })).statusCode).toBe(404);
    // Path tricks resolve to the route they name, not to the public one they mention.
    expect((await app.inject({ url: '/healthz/../api/v1/objects/lamp', remoteAddress: LAN })).statusCode).not.toBe(200);
    expect((await app.inject({ url: '/api/v1/objects/lamp?x=/healthz', remoteAddress: LAN })).statusCode).toBe(401);
  });

  it('takes ?token= only on the event stream, never on REST', async () => {
    const { app } = taggedApp(file, false);
    expect((await app.inject({ url: `/api/v1/objects/lamp?token=${tokens.admin}`, remoteAddress: LAN })).statusCode).toBe(401);
  });

  it('refuses a route whose scope tag is mistyped rather than opening it', async () => {
    const { app } = taggedApp(file, true);
    const res = await app.inject({ url: '/api/v1/mistyped', remoteAddress: '127.0.0.1' });
    expect(res.statusCode).toBe(500);
    expect(res.json().error.message).toContain('unknown scope tag');
  });

  it('does not open loopback to proxied requests, other Host names or web pages of other origins', async () => {
    const { app } = taggedApp(file, true);
    const at = (headers: Record<string, string>): Promise<number> => app.inject({ ...READ, remoteAddress: '127.0.0.1', headers }).then((r) => r.statusCode);
    expect(await at({ 'x-forwarded-for': '203.0.113.9' })).toBe(401);
    expect(await at({ forwarded: 'for=203.0.113.9' })).toBe(401);
    expect(await at({ 'x-real-ip': '203.0.113.9' })).toBe(401);
    expect(await at({ host: 'attacker.example:8080' })).toBe(401); // DNS rebinding
    expect(await at({ origin: 'http://attacker.example' })).toBe(401); // a page elsewhere
    expect(await at({ origin: 'null' })).toBe(401);
    for (const host of ['localhost:7000', '127.0.0.1:7000', '[::1]:7000', 'localhost']) expect(await at({ host }), host).toBe(200);
    for (const origin of ['http://localhost:7000', 'http://127.0.0.1:7000', 'http://[::1]:7000']) expect(await at({ origin }), origin).toBe(200);
    // A token still works through a proxy.
    expect(await at({ 'x-forwarded-for': '203.0.113.9', authorization: `Bearer ${tokens.read}` })).toBe(200);
  });

  it('sees create and revoke in the file on the next request, without a restart', async () => {
    const { app } = taggedApp(file, false);
    const made = createToken(file, { name: 'late', scopes: ['write'] });
    expect((await app.inject({ ...WRITE, remoteAddress: LAN, headers: bearer(made.token) })).statusCode).toBe(200);
    revokeToken(file, made.record.id);
    expect((await app.inject({ ...WRITE, remoteAddress: LAN, headers: bearer(made.token) })).statusCode).toBe(401);
  });

  it('fails closed when the token file is damaged while running, and recovers when it is fixed', async () => {
    const errors: string[] = [];
    const store = TokenStore.open(file, (e) => errors.push(e.message));
    expect(store.verify(tokens.read).ok).toBe(true);
    const { readFileSync, writeFileSync } = await import('node:fs');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, '{"version": 1, "tokens": [');
    expect(store.verify(tokens.read)).toEqual({ ok: false, reason: 'invalid' });
    expect(store.verify(tokens.read).ok).toBe(false);
    expect(errors).toHaveLength(1); // reported once per damaged version, not per request
    expect(errors[0]).toContain('not valid JSON');
    writeFileSync(file, good);
    expect(store.verify(tokens.read).ok).toBe(true);
  });
});

describe('event stream upgrade', () => {
  function upgrade(url: string, remoteAddress: string, headers: Record<string, string> = {}): IncomingMessage {
    return { url, headers: { host: 'localhost:7000', ...headers }, socket: { remoteAddress } } as unknown as IncomingMessage;
  }

  it('answers 401 to a missing, wrong or revoked token and lets a read token in, by header or ?token=', () => {
    const { authorizeUpgrade } = taggedApp(file, false);
    const path = '/api/v1/events';
    expect(authorizeUpgrade(upgrade(path, LAN))).toMatchObject({ status: 401, code: 'CHORUS_UNAUTHORIZED' });
    expect(authorizeUpgrade(upgrade(`${path}?token=chorus_00000000_${'A'.repeat(43)}`, LAN))).toMatchObject({ status: 401 });
    expect(authorizeUpgrade(upgrade(`${path}?token=${tokens.revoked}`, LAN))).toMatchObject({ status: 401 });
    expect(authorizeUpgrade(upgrade(`${path}?prefix=a&token=${encodeURIComponent(tokens.read)}`, LAN))).toBe(true);
    expect(authorizeUpgrade(upgrade(path, LAN, bearer(tokens.read)))).toBe(true);
    expect(authorizeUpgrade(upgrade(path, '127.0.0.1'))).toMatchObject({ status: 401 });
  });

  it('lets loopback in when open, but not a cross-site page (WebSocket hijacking)', () => {
    const { authorizeUpgrade } = taggedApp(file, true);
    expect(authorizeUpgrade(upgrade('/api/v1/events', '127.0.0.1'))).toBe(true);
    expect(authorizeUpgrade(upgrade('/api/v1/events', '127.0.0.1', { origin: 'https://attacker.example' }))).toMatchObject({ status: 401 });
    expect(authorizeUpgrade(upgrade('/api/v1/events', '127.0.0.1', { origin: 'http://localhost:7000' }))).toBe(true);
    expect(authorizeUpgrade(upgrade('/api/v1/events?token=garbage', '127.0.0.1'))).toMatchObject({ status: 401 });
  });
});

describe('pure pieces', () => {
  it('knows loopback addresses', () => {
    for (const a of LOOPBACKS) expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of [undefined, '', LAN, '10.127.0.1', '::ffff:10.0.0.1', '::', '0.0.0.0', '128.0.0.1', '::2', '127.0.0.1.evil', 'localhost']) expect(isLoopbackAddress(a), String(a)).toBe(false);
  });

  it('decides public routes without looking at tokens', () => {
    const never = { verify: (): never => { throw new Error('verify must not be called'); } };
    expect(decideAccess({ needs: 'public', remoteAddress: LAN, headers: { authorization: 'Bearer junk' } }, false, never)).toEqual({ ok: true, principal: null });
  });
});
