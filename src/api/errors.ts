import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, isChorusError } from '../core/errors.ts';

/** The one error body of the API: `{ "error": { "code", "message", ...details } }`. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string } & Readonly<Record<string, unknown>>;
}

/** HTTP status of each error code the API answers with; codes not listed are 400. */
export const STATUS_OF_CODE: Readonly<Partial<Record<string, number>>> = {
  [ErrorCode.TooLarge]: 413,
  [ErrorCode.BodyTooLarge]: 413,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.NotReady]: 503,
  [ErrorCode.ShuttingDown]: 503,
  [ErrorCode.Unhealthy]: 503,
  [ErrorCode.WriteConcernTimeout]: 504,
  [ErrorCode.StorageClosed]: 503,
  [ErrorCode.StorageFailed]: 500,
  [ErrorCode.Internal]: 500,
};

/** An error a route throws to answer with a given status, code and extra fields on `error`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/** Answers with the error shape. */
export function sendError(reply: FastifyReply, status: number, code: string, message: string, details: Readonly<Record<string, unknown>> = {}): FastifyReply {
  return reply.code(status).send({ error: { ...details, code, message } } satisfies ErrorBody);
}

/** Status and code for fastify's own errors (body parsing, limits, routing). */
function fromFastify(err: FastifyError): { status: number; code: string } {
  if (err.validation !== undefined) return { status: 400, code: ErrorCode.BadRequest };
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: ErrorCode.BodyTooLarge };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: ErrorCode.UnsupportedMediaType };
    default: {
      const s = err.statusCode;
      if (s !== undefined && s >= 400 && s < 500) return { status: s, code: typeof err.code === 'string' && err.code.startsWith('CHORUS_') ? err.code : ErrorCode.BadRequest };
      return { status: 500, code: ErrorCode.Internal };
    }
  }
}

/** The error handler: every failure leaves as the error shape with its status. */
export function handleError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof ApiError) return sendError(reply, err.statusCode, err.code, err.message, err.details);
  if (isChorusError(err)) return sendError(reply, STATUS_OF_CODE[err.code] ?? 400, err.code, err.message);
  const { status, code } = fromFastify(err);
  if (status >= 500) {
    req.log.error({ err }, 'request failed');
    return sendError(reply, status, code, 'internal error: see the node log');
  }
  if (status === 413) return sendError(reply, status, code, `the request body is larger than ${req.routeOptions.bodyLimit} bytes`);
  if (status === 415) return sendError(reply, status, code, `content-type ${JSON.stringify(req.headers['content-type'] ?? '')} is not accepted: send application/json`);
  return sendError(reply, status, code, err.message);
}

/** Unknown routes: 404 in the error shape. */
export function handleNotFound(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(reply, 404, ErrorCode.NotFound, `no route ${req.method} ${req.url.split('?')[0] ?? ''}`);
}

/** One Ajv error as fastify hands it to the formatter (Ajv runs with `verbose`: the value and the schema are attached). */
interface AjvError {
  readonly instancePath?: string;
  readonly keyword?: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
  readonly data?: unknown;
  readonly parentSchema?: Record<string, unknown>;
}

/**
 * Names the failing field in words: Ajv's message after the path (`body/fields must be
 * object`), the property an `additionalProperties` failure is about, and for a choice (replicas:
 * N | "all") each alternative with the value that matched none.
 */
export function formatSchemaErrors(errors: readonly AjvError[], dataVar: string): Error {
  const anyOf = errors.find((e) => e.keyword === 'anyOf');
  const e = anyOf ?? errors[0];
  const path = `${dataVar}${e?.instancePath ?? ''}`;
  if (e === undefined) return new Error(`${path} is invalid`);
  if (anyOf !== undefined) {
    const options = ((anyOf.parentSchema?.['anyOf'] ?? []) as Record<string, unknown>[]).map(describe);
    return new Error(`${path} must be ${options.join(' or ')}, got ${preview(anyOf.data)}`);
  }
  if (e.keyword === 'additionalProperties') return new Error(`${path} must NOT have property '${String(e.params?.['additionalProperty'])}'`);
  return new Error(`${path} ${e.message ?? 'is invalid'}`);
}

/** One alternative of a choice in words: `an integer from 1 to 1000`, `"all"`. */
function describe(s: Record<string, unknown>): string {
  if (s['const'] !== undefined) return JSON.stringify(s['const']);
  const type = String(s['type'] ?? 'a value');
  const article = /^[aeiou]/.test(type) ? 'an' : 'a';
  if (s['minimum'] !== undefined && s['maximum'] !== undefined) return `${article} ${type} from ${String(s['minimum'])} to ${String(s['maximum'])}`;
  return `${article} ${type}`;
}

function preview(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
