import type { FastifyInstance } from 'fastify';
import { ErrorCode } from '../../core/errors.ts';
import type { WriteResult } from '../../store/index.ts';
import { ApiError } from '../errors.ts';
import type { NodeApi, WriteOp } from '../node-api.ts';
import { errorResponses, fieldParam, objectIdParam, ref, writeConcernQuery, type Schema } from '../schemas.ts';

/** Most objects one page lists. */
export const MAX_PAGE = 1000;
const DEFAULT_PAGE = 100;

interface IdParams {
  id: string;
}
interface FieldParams extends IdParams {
  field: string;
}
interface ConcernQuery {
  replicas?: number | 'all';
  timeoutMs: number;
}
interface PutQuery extends ConcernQuery {
  ifAbsent?: boolean;
}
interface ListQuery {
  prefix?: string;
  after?: string;
  limit: number;
}

const idParams: Schema = { type: 'object', required: ['id'], properties: { id: objectIdParam } };
const fieldParams: Schema = { type: 'object', required: ['id', 'field'], properties: { id: objectIdParam, field: fieldParam } };
const concernQuery: Schema = { type: 'object', additionalProperties: false, properties: writeConcernQuery };
const putQuery: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: { ...writeConcernQuery, ifAbsent: { type: 'boolean', description: 'true: create only; 409 when the object already exists.' } },
};
const listQuery: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    prefix: { type: 'string', maxLength: 256, description: 'Only ids starting with this.' },
    after: { type: 'string', maxLength: 256, description: "Cursor: the previous page's `next`; ids after it." },
    limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE, description: 'Objects per page.' },
  },
};
const listResponse: Schema = {
  type: 'object',
  required: ['objects', 'next'],
  properties: { objects: { type: 'array', items: ref('ObjectEntry') }, next: { type: ['string', 'null'], description: 'Pass as ?after= for the next page; null on the last page.' } },
};
const putBody: Schema = {
  type: 'object',
  required: ['fields'],
  additionalProperties: false,
  properties: { fields: ref('Fields') },
  examples: [{ fields: { on: true, level: 80 } }],
};
const WRITE_TAGS = ['objects'];

/** The highest sequence number among a local write's records (0 for a write that changed nothing). */
export function maxSeq(result: WriteResult): number {
  let seq = 0;
  for (const r of result.records) if (r.seq > seq) seq = r.seq;
  return seq;
}

/** Waits for the asked-for write concern; throws 504 with what was confirmed when it times out. */
async function writeConcern(api: NodeApi, result: WriteResult, q: ConcernQuery): Promise<{ replicas?: { confirmed: string[]; required: number } }> {
  if (q.replicas === undefined) return {};
  const o = await api.awaitReplicas(maxSeq(result), q.replicas, q.timeoutMs);
  if (!o.ok) {
    throw new ApiError(504, ErrorCode.WriteConcernTimeout, `the write is committed on this node, but only ${o.confirmed.length} of ${o.required} required replicas confirmed it within ${q.timeoutMs} ms`, { confirmed: [...o.confirmed], required: o.required });
  }
  return { replicas: { confirmed: [...o.confirmed], required: o.required } };
}

function notFound(id: string): ApiError {
  return new ApiError(404, ErrorCode.NotFound, `object ${JSON.stringify(id)} does not exist`);
}

/** Applies a write, then answers with the object as it is now and the write concern met. */
async function writeAndAnswer(api: NodeApi, op: WriteOp, q: ConcernQuery): Promise<Record<string, unknown>> {
  const result = await api.write(op);
  const body = op.kind === 'deleteObject' ? { id: op.id, deleted: true } : { id: op.id, fields: api.get(op.id) ?? {} };
  return { ...body, ...(await writeConcern(api, result, q)) };
}

/** Objects: list, get, put, patch, delete, delete a field. */
export function registerObjectRoutes(app: FastifyInstance, api: NodeApi): void {
  app.get<{ Querystring: ListQuery }>(
    '/api/v1/objects',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'List objects in id order, a page at a time',
        description: 'Cursor paging: pass the answer\'s `next` as `after` until it is null. Reads are local.',
        tags: ['objects'],
        querystring: listQuery,
        response: { 200: listResponse, ...errorResponses(400) },
      },
    },
    async (req) => {
      const { prefix, after, limit } = req.query;
      const page = api.list({ ...(prefix === undefined ? {} : { prefix }), ...(after === undefined ? {} : { after }), limit: limit + 1 });
      const objects = page.slice(0, limit);
      return { objects, next: page.length > limit ? (objects[objects.length - 1]?.id ?? null) : null };
    },
  );

  app.get<{ Params: IdParams }>(
    '/api/v1/objects/:id',
    {
      config: { scope: 'read' },
      schema: { summary: 'Read one object', tags: ['objects'], params: idParams, response: { 200: ref('ObjectEntry'), ...errorResponses(400, 404) } },
    },
    async (req) => {
      const fields = api.get(req.params.id);
      if (fields === undefined) throw notFound(req.params.id);
      return { id: req.params.id, fields };
    },
  );

  const writeResponses = (...extra: number[]): Record<number, Schema> => ({ 200: ref('WriteResult'), ...errorResponses(400, 413, 504, ...extra) });

  app.put<{ Params: IdParams; Querystring: PutQuery; Body: { fields: Record<string, unknown> } }>(
    '/api/v1/objects/:id',
    {
      config: { scope: 'write' },
      schema: {
        summary: 'Replace an object (create it if absent)',
        description: 'Every field not in the body is removed. ?ifAbsent=true creates only (409 if it exists). ?replicas waits for peers (write concern).',
        tags: WRITE_TAGS,
        params: idParams,
        querystring: putQuery,
        body: putBody,
        response: writeResponses(409),
      },
    },
    async (req) => {
      const { id } = req.params;
      if (req.query.ifAbsent === true && api.get(id) !== undefined) throw new ApiError(409, ErrorCode.Conflict, `object ${JSON.stringify(id)} already exists (ifAbsent=true)`);
      return writeAndAnswer(api, { kind: 'put', id, fields: req.body.fields }, req.query);
    },
  );

  app.patch<{ Params: IdParams; Querystring: PutQuery; Body: Record<string, unknown> }>(
    '/api/v1/objects/:id',
    {
      config: { scope: 'write' },
      schema: {
        summary: 'Set some fields of an object (create it if absent)',
        description: 'The body is the fields to set; other fields keep their values. ?ifAbsent=true creates only (409 if it exists). ?replicas waits for peers.',
        tags: WRITE_TAGS,
        params: idParams,
        querystring: putQuery,
        body: ref('Fields'),
        response: writeResponses(409),
      },
    },
    async (req) => {
      const { id } = req.params;
      if (req.query.ifAbsent === true && api.get(id) !== undefined) throw new ApiError(409, ErrorCode.Conflict, `object ${JSON.stringify(id)} already exists (ifAbsent=true)`);
      return writeAndAnswer(api, { kind: 'patch', id, fields: req.body }, req.query);
    },
  );

  app.delete<{ Params: IdParams; Querystring: ConcernQuery }>(
    '/api/v1/objects/:id',
    {
      config: { scope: 'write' },
      schema: { summary: 'Delete an object', description: 'Writes a tombstone that replicates. ?replicas waits for peers.', tags: WRITE_TAGS, params: idParams, querystring: concernQuery, response: writeResponses(404) },
    },
    async (req) => {
      const { id } = req.params;
      if (api.get(id) === undefined) throw notFound(id);
      return writeAndAnswer(api, { kind: 'deleteObject', id }, req.query);
    },
  );

  app.delete<{ Params: FieldParams; Querystring: ConcernQuery }>(
    '/api/v1/objects/:id/fields/:field',
    {
      config: { scope: 'write' },
      schema: { summary: 'Delete one field of an object', tags: WRITE_TAGS, params: fieldParams, querystring: concernQuery, response: writeResponses(404) },
    },
    async (req) => {
      const { id, field } = req.params;
      const fields = api.get(id);
      if (fields === undefined) throw notFound(id);
      if (!Object.hasOwn(fields, field)) throw new ApiError(404, ErrorCode.NotFound, `object ${JSON.stringify(id)} has no field ${JSON.stringify(field)}`);
      return writeAndAnswer(api, { kind: 'deleteField', id, field }, req.query);
    },
  );
}
