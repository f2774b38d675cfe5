import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { ChorusError, ErrorCode, isChorusError } from '../core/errors.ts';
import type { NodeApi } from './node-api.ts';

/** HTTP status for each error code the API can return. */
const STATUS: Partial<Record<string, number>> = {
  [ErrorCode.InvalidObjectId]: 400,
  [ErrorCode.InvalidFieldName]: 400,
  [ErrorCode.InvalidFields]: 400,
  [ErrorCode.NotJson]: 400,
  [ErrorCode.TooDeep]: 400,
  [ErrorCode.TooLarge]: 413,
  [ErrorCode.MalformedMessage]: 400,
};

function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}

const MAX_LIST = 1000;

/** Builds the HTTP face of a node: objects, members, node info, health. Listening is the caller's. */
export function buildHttp(api: NodeApi, opts: { bodyLimit?: number; logger?: boolean } = {}): FastifyInstance {
  const app = Fastify({ bodyLimit: opts.bodyLimit ?? 1024 * 1024, logger: opts.logger ?? false });

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (isChorusError(err)) return sendError(reply, STATUS[err.code] ?? 400, err.code, err.message);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, 413, 'CHORUS_BODY_TOO_LARGE', err.message);
    if (err.code?.startsWith('FST_ERR_CTP') || err.statusCode === 400) return sendError(reply, 400, 'CHORUS_BAD_REQUEST', err.message);
    return sendError(reply, err.statusCode && err.statusCode >= 400 ? err.statusCode : 500, 'CHORUS_INTERNAL', err.message);
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'CHORUS_NOT_FOUND', `no route ${req.method} ${req.url}`));

  app.get('/healthz', async (_req, reply) => {
    const h = api.health();
    return reply.code(h.ok ? 200 : 503).send({ status: h.ok ? 'ok' : 'failing', checks: h.checks });
  });
  app.get('/api/v1/node', async () => api.info());
  app.get('/api/v1/members', async () => ({ members: api.members() }));

  app.get('/api/v1/objects', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST) return sendError(reply, 400, 'CHORUS_BAD_REQUEST', `limit must be 1 to ${MAX_LIST}, got ${q.limit}`);
    const page = api.list({ ...(q.prefix ? { prefix: q.prefix } : {}), ...(q.after ? { after: q.after } : {}), limit: limit + 1 });
    const objects = page.slice(0, limit);
    return { objects, next: page.length > limit ? (objects[objects.length - 1]?.id ?? null) : null };
  });

  app.get('/api/v1/objects/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    const fields = api.get(id);
    if (fields === undefined) return sendError(reply, 404, 'CHORUS_NOT_FOUND', `object "${id}" does not exist`);
    return { id, fields };
  });

  app.put('/api/v1/objects/:id', async (req) => {
    const { id } = req.params as { id: string };
    const body = req.body as { fields?: unknown } | null;
    if (typeof body !== 'object' || body === null || Array.isArray(body) || !('fields' in body)) {
      throw new ChorusError(ErrorCode.InvalidFields, 'PUT takes a JSON body { "fields": { ... } }');
    }
    await api.write({ kind: 'put', id, fields: body.fields });
    return { id, fields: api.get(id) ?? {} };
  });

  app.patch('/api/v1/objects/:id', async (req) => {
    const { id } = req.params as { id: string };
    await api.write({ kind: 'patch', id, fields: req.body });
    return { id, fields: api.get(id) ?? {} };
  });

  app.delete('/api/v1/objects/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    if (api.get(id) === undefined) return sendError(reply, 404, 'CHORUS_NOT_FOUND', `object "${id}" does not exist`);
    await api.write({ kind: 'deleteObject', id });
    return { id, deleted: true };
  });

  app.delete('/api/v1/objects/:id/fields/:field', async (req) => {
    const { id, field } = req.params as { id: string; field: string };
    await api.write({ kind: 'deleteField', id, field });
    return { id, fields: api.get(id) ?? {} };
  });

  return app;
}
