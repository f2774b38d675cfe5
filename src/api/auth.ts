import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorCode } from '../core/errors.ts';
import { grants, isScope, strongest, type Scope, type TokenRecord, type TokenVerifier } from './tokens.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; untagged routes need 'read'. */
    scope?: Scope;
  }
  interface FastifyRequest {
    /** Who the auth hook let in (null before it ran, and on public routes). */
    principal: Principal | null;
  }
}

/** Who a request was let in as: a token, or a loopback client without one. */
export type Principal = { readonly kind: 'token'; readonly token: TokenRecord } | { readonly kind: 'loopback' };

/** The verdict on one request. */
export type AccessDecision =
  | { readonly ok: true; readonly principal: Principal | null }
  | { readonly ok: false; readonly status: 401 | 403; readonly code: string; readonly message: string; readonly challenge: string };

/** Options of registerAuth. */
export interface AuthOptions {
  readonly tokens: TokenVerifier;
  /** Let loopback clients in without a token (config `apiLoopbackOpen`). */
  readonly loopbackOpen: boolean;
}

/** What one request presents, whatever carried it (a fastify request or an upgrade). */
export interface AccessRequest {
  /** The scope needed, or 'public' for routes anyone may call. */
  readonly needs: Scope | 'public';
  /** The TCP peer's address (never a forwarding header). */
  readonly remoteAddress: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /** A `?token=` from the URL: only the event stream takes one (browsers cannot set headers on a WebSocket). */
  readonly queryToken?: string | undefined;
}

/** Routes anyone may call: probes and the API's own documentation. */
const PUBLIC_ROUTES = new Set(['/healthz', '/readyz', '/openapi.json', '/docs']);
/** The event stream's path, served on upgrade outside fastify. */
export const EVENTS_PATH = '/api/v1/events';
const REALM = 'Bearer realm="chorus"';
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'];

/** True for 127.0.0.0/8, ::1 and IPv4-mapped 127.x (::ffff:127.0.0.1). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.toLowerCase();
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** True for localhost, 127.x and [::1] as a Host or Origin host name. */
function isLoopbackName(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h === '[::1]' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function hostnameOf(hostHeader: string): string {
  try {
    return new URL(`http://${hostHeader}`).hostname;
  } catch {
    return '';
  }
}

/**
 * Why a loopback peer is not trusted without a token, or undefined when it is. Being on
 * loopback is not enough: a reverse proxy on this machine forwards remote clients (it adds
 * forwarding headers); a web page in a local browser can reach loopback by DNS rebinding
 * (its Host is not a loopback name) or open a cross-site WebSocket (its Origin is not a
 * loopback origin). Scripts and the CLI send no Origin and a loopback Host.
 */
export function loopbackDistrust(headers: IncomingHttpHeaders): string | undefined {
  if (FORWARDING_HEADERS.some((h) => headers[h] !== undefined)) return 'the request came through a proxy';
  const host = headers.host;
  if (host !== undefined && !isLoopbackName(hostnameOf(host))) return `Host ${JSON.stringify(host)} is not a loopback name`;
  const origin = headers.origin;
  if (origin !== undefined) {
    let name = '';
    try {
      name = new URL(origin).hostname;
    } catch {
      // 'null' and other opaque origins: not loopback
    }
    if (!isLoopbackName(name)) return `Origin ${JSON.stringify(origin)} is not a loopback origin`;
  }
  return undefined;
}

function unauthorized(message: string, challenge = REALM): AccessDecision {
  return { ok: false, status: 401, code: ErrorCode.Unauthorized, message, challenge };
}

/** The token a request presents: `Authorization: Bearer`, else the query token; `malformed` for another scheme. */
function presentedToken(r: AccessRequest): string | undefined | { malformed: string } {
  const header = r.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    return m === null ? { malformed: 'the Authorization header must be "Bearer <token>"' } : (m[1] as string);
  }
  return r.queryToken;
}

/**
 * Decides one request (pure): public routes pass; a presented token is always checked, also
 * from loopback; without one, a trusted loopback client passes when loopback is open.
 */
export function decideAccess(r: AccessRequest, loopbackOpen: boolean, tokens: TokenVerifier): AccessDecision {
  if (r.needs === 'public') return { ok: true, principal: null };
  const needs = r.needs;
  const presented = presentedToken(r);
  if (presented === undefined) {
    if (loopbackOpen && isLoopbackAddress(r.remoteAddress)) {
      const distrust = loopbackDistrust(r.headers);
      if (distrust === undefined) return { ok: true, principal: { kind: 'loopback' } };
      return unauthorized(`this request needs a token with scope '${needs}': loopback clients go without one, but ${distrust}`);
    }
    return unauthorized(`this request needs a token with scope '${needs}': send "Authorization: Bearer <token>" (create one with \`chorus token create\`)`);
  }
  if (typeof presented !== 'string') return unauthorized(presented.malformed, `${REALM}, error="invalid_request"`);
  const check = tokens.verify(presented);
  if (!check.ok) {
    const message = check.reason === 'malformed' ? 'the token is malformed: expected chorus_<id>_<secret>' : 'the token is unknown or revoked';
    return unauthorized(message, `${REALM}, error="invalid_token"`);
  }
  if (!grants(check.token.scopes, needs)) {
    const held = strongest(check.token.scopes) ?? 'none';
    return { ok: false, status: 403, code: ErrorCode.Forbidden, message: `this request needs scope '${needs}'; token ${check.token.id} has '${held}'`, challenge: `${REALM}, error="insufficient_scope", scope="${needs}"` };
  }
  return { ok: true, principal: { kind: 'token', token: check.token } };
}

/** The scope a matched route needs: public, its tag, or 'read'; unmatched requests (404) need 'read'. */
function routeNeeds(request: FastifyRequest): Scope | 'public' | undefined {
  const url = request.routeOptions.url;
  if (url !== undefined && (PUBLIC_ROUTES.has(url) || url.startsWith('/docs/'))) return 'public';
  const tag = request.routeOptions.config.scope as unknown;
  if (tag === undefined) return 'read';
  return isScope(tag) ? tag : undefined;
}

/** Why an event-stream upgrade is refused: answered as an HTTP error before any upgrade. */
export interface UpgradeDenial {
  readonly status: 401 | 403;
  readonly code: string;
  readonly message: string;
}

/** The access check of event-stream upgrades, for `EventHub.attach`: true, or the refusal. */
export type UpgradeAuthorizer = (req: IncomingMessage) => true | UpgradeDenial;

/**
 * Adds the access check to every route of `app` (an onRequest hook: before any body is read)
 * and returns the same check for event-stream upgrades, which need 'read'. Refusals answer
 * 401 (no, malformed, unknown or revoked token) or 403 (token lacks the route's scope) with
 * `{ error: { code, message } }` and a `WWW-Authenticate: Bearer` challenge. Register it right
 * after the routes: fastify applies root hooks to every route when the app becomes ready.
 */
export function registerAuth(app: FastifyInstance, options: AuthOptions): { authorizeUpgrade: UpgradeAuthorizer } {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    const needs = routeNeeds(request);
    if (needs === undefined) {
      // A mistyped tag must not open a route: refuse loudly so the route's tests catch it.
      return reply.code(500).send({ error: { code: 'CHORUS_INTERNAL', message: `route ${request.routeOptions.url ?? '?'} has an unknown scope tag` } });
    }
    const d = decideAccess({ needs, remoteAddress: request.socket.remoteAddress, headers: request.headers }, options.loopbackOpen, options.tokens);
    if (!d.ok) return reply.code(d.status).header('www-authenticate', d.challenge).send({ error: { code: d.code, message: d.message } });
    request.principal = d.principal;
    return undefined;
  });
  const authorizeUpgrade: UpgradeAuthorizer = (req) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const queryToken = url.searchParams.get('token') ?? undefined;
    // Every scope includes 'read', so a valid token is never under-scoped here: only 401s arise.
    const d = decideAccess({ needs: 'read', remoteAddress: req.socket.remoteAddress, headers: req.headers, queryToken }, options.loopbackOpen, options.tokens);
    return d.ok ? true : { status: d.status, code: d.code, message: d.message };
  };
  return { authorizeUpgrade };
}
