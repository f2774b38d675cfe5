import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import { ErrorCode } from '../core/errors.ts';
import { formatSchemaErrors, handleError, handleNotFound, sendError } from './errors.ts';
import type { NodeApi } from './node-api.ts';
import { RouteCatalog } from './openapi.ts';
import { RateLimiter } from './rate-limit.ts';
import { registerCompatRoutes } from './routes/compat.ts';
import { registerDocsRoutes } from './routes/docs.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerMeshRoutes } from './routes/mesh.ts';
import { registerObjectRoutes } from './routes/objects.ts';
import { SHARED_SCHEMAS, type Schema } from './schemas.ts';

/** Options of the HTTP face. */
export interface HttpOptions {
  /** Largest request body in bytes (413 above it); default 1 MiB. */
  readonly bodyLimit?: number;
  /** Per-client-address token bucket (429 when empty); perSecond 0 turns it off. Default 200/s, burst 400. */
  readonly rateLimit?: { readonly perSecond: number; readonly burst: number };
  readonly logger?: boolean;
  /** Monotonic milliseconds for the rate limiter (tests pass a manual clock). */
  readonly now?: () => number;
}

/** Defaults, each with its reason: see NodeConfig's apiBodyLimit, apiRateLimit, apiRateBurst. */
const DEFAULTS = { bodyLimit: 1024 * 1024, rateLimit: { perSecond: 200, burst: 400 } };
/** Longest path parameter accepted by the router: a 256-character id, every character %-encoded UTF-8. */
const MAX_PARAM_LENGTH = 256 * 12;

/**
 * Builds the HTTP face of a node: the REST API under /api/v1, probes, the consumer-scheduler
 * compatibility endpoints, and /openapi.json + /docs generated from the route schemas.
 * Listening is the caller's. Routes and hooks added to the returned app later (metrics, access
 * control) are documented too, as long as they are added before the app is ready.
 */
export function buildHttp(api: NodeApi, opts: HttpOptions = {}): FastifyInstance {
  const app = Fastify({
    bodyLimit: opts.bodyLimit ?? DEFAULTS.bodyLimit,
    logger: opts.logger ?? false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Our own hook answers 503 in the API's error shape while the node stops.
    return503OnClosing: false,
    // JSON bodies are checked as sent (a number is not a uuid); query strings are converted by
    // their schema's types in a preValidation hook instead (see coerceQuery). Unknown body and
    // query properties are refused, not silently dropped, so `?replica=2` cannot pass unnoticed.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, verbose: true } },
    schemaErrorFormatter: formatSchemaErrors,
  });
  for (const s of SHARED_SCHEMAS) app.addSchema(s);
  // An empty JSON body (a DELETE from a client that always sets content-type) is no body.
  const json = app.getDefaultJsonParser('error', 'ignore');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => (body.length === 0 ? done(null, undefined) : json(req, body.toString(), done)));
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);

  const catalog = new RouteCatalog();
  catalog.attach(app);
  app.addHook('onRoute', addQueryCoercion);
  addGuards(app, api, opts);

  registerObjectRoutes(app, api);
  registerMeshRoutes(app, api);
  registerHealthRoutes(app, api);
  registerCompatRoutes(app, api);
  registerDocsRoutes(app, catalog);
  return app;
}

/** Rate limit, then refuse everything while the node stops: both before the body is read. */
function addGuards(app: FastifyInstance, api: NodeApi, opts: HttpOptions): void {
  const rate = opts.rateLimit ?? DEFAULTS.rateLimit;
  const now = opts.now ?? ((): number => performance.now());
  if (rate.perSecond > 0) {
    const limiter = new RateLimiter(rate);
    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      const waitMs = limiter.take(req.socket.remoteAddress ?? req.ip, now());
      if (waitMs === 0) return undefined;
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      reply.header('retry-after', String(seconds));
      return sendError(reply, 429, ErrorCode.RateLimited, `too many requests from ${req.ip}: at most ${rate.perSecond}/s (burst ${rate.burst}); retry after ${seconds} s`);
    });
  }
  app.addHook('onRequest', async (_req: FastifyRequest, reply: FastifyReply) => {
    if (api.isStopping()) return sendError(reply, 503, ErrorCode.ShuttingDown, 'the node is shutting down');
    return undefined;
  });
}

type Kind = 'number' | 'boolean';

/** Which query parameters of a route take numbers or booleans (by their schema's type). */
function coercions(querystring: unknown): Map<string, Set<Kind>> {
  const plan = new Map<string, Set<Kind>>();
  const props = (querystring as { properties?: Record<string, Schema> } | undefined)?.properties ?? {};
  for (const [name, s] of Object.entries(props)) {
    const types = [s, ...((s['anyOf'] as Schema[] | undefined) ?? [])].flatMap((x) => [x['type']].flat()).filter((t): t is string => typeof t === 'string');
    const kinds = new Set<Kind>();
    if (types.includes('integer') || types.includes('number')) kinds.add('number');
    if (types.includes('boolean')) kinds.add('boolean');
    if (kinds.size > 0) plan.set(name, kinds);
  }
  return plan;
}

const NUMBER_RE = /^-?\d+(\.\d+)?$/;

/**
 * Query strings are text: a route whose query schema has numbers or booleans gets a
 * preValidation hook converting exactly those parameters ('5000' → 5000, 'true' → true) when
 * they are written that way. Anything else is left as text for the schema to refuse by name.
 */
function addQueryCoercion(route: RouteOptions): void {
  const plan = coercions(route.schema?.querystring);
  if (plan.size === 0) return;
  const coerce = async (req: FastifyRequest): Promise<void> => {
    const q = req.query as Record<string, unknown>;
    for (const [name, kinds] of plan) {
      const v = q[name];
      if (typeof v !== 'string') continue;
      if (kinds.has('number') && NUMBER_RE.test(v)) q[name] = Number(v);
      else if (kinds.has('boolean') && (v === 'true' || v === 'false')) q[name] = v === 'true';
    }
  };
  const existing = route.preValidation;
  route.preValidation = existing === undefined ? [coerce] : [coerce, ...[existing].flat()];
}
