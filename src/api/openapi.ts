import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Schema } from './schemas.ts';

declare module 'fastify' {
  interface FastifySchema {
    /** One line for the OpenAPI operation and /docs. */
    summary?: string;
    /** Longer text for the OpenAPI operation and /docs. */
    description?: string;
    /** Groups operations in /docs. */
    tags?: readonly string[];
    /** Media types of a route that does not answer JSON (e.g. text/html). */
    produces?: readonly string[];
  }
  interface FastifyContextConfig {
    /** The scope a route needs (read by the access hook); untagged routes need 'read'. */
    scope?: 'read' | 'write' | 'admin';
  }
}

/** One route as registered: what the OpenAPI document is generated from. */
export interface CatalogRoute {
  readonly method: string;
  readonly url: string;
  readonly schema: Readonly<Record<string, unknown>> | undefined;
  readonly scope: string | undefined;
}

/** Every route registered after `attach`, collected by an onRoute hook (HEAD twins left out). */
export class RouteCatalog {
  readonly routes: CatalogRoute[] = [];

  /** Collects routes registered on `app` from now on. */
  attach(app: FastifyInstance): void {
    app.addHook('onRoute', (r: RouteOptions) => {
      const methods = Array.isArray(r.method) ? r.method : [r.method];
      for (const method of methods) {
        if (method === 'HEAD') continue;
        this.routes.push({ method, url: r.url, schema: r.schema as Record<string, unknown> | undefined, scope: r.config?.scope });
      }
    });
  }
}

/** The parts of an OpenAPI 3.1 document this module writes. */
export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: { title: string; version: string; description: string };
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { schemas: Record<string, Schema> };
}

/** One OpenAPI operation. */
export interface Operation {
  operationId: string;
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: Parameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
  'x-scope'?: string;
}

/** One path or query parameter. */
export interface Parameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description?: string;
  schema: Schema;
}

/** `/objects/:id` → `/objects/{id}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** Rewrites fastify's shared-schema refs (`Error#`) to component refs, recursively. */
export function toOpenApiSchema(s: unknown): Schema {
  return rewrite(s) as Schema;
}

function rewrite(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(rewrite);
  if (typeof s !== 'object' || s === null) return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$id') continue;
    out[k] = k === '$ref' && typeof v === 'string' ? `#/components/schemas/${v.replace(/#$/, '')}` : rewrite(v);
  }
  return out;
}

function parametersOf(part: unknown, where: 'path' | 'query'): Parameter[] {
  if (typeof part !== 'object' || part === null) return [];
  const p = part as { properties?: Record<string, Schema>; required?: string[] };
  return Object.entries(p.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: where, required: where === 'path' || (p.required ?? []).includes(name), ...(typeof description === 'string' ? { description } : {}), schema: toOpenApiSchema(rest) };
  });
}

function responsesOf(schema: Readonly<Record<string, unknown>>): Operation['responses'] {
  const out: Operation['responses'] = {};
  const response = (schema['response'] ?? {}) as Record<string, Schema>;
  for (const [status, s] of Object.entries(response)) {
    const description = typeof s['description'] === 'string' ? s['description'] : (STATUS_CODES[Number(status)] ?? status);
    out[status] = { description, content: { 'application/json': { schema: toOpenApiSchema(s) } } };
  }
  const produces = schema['produces'] as readonly string[] | undefined;
  if (produces !== undefined && out['200'] === undefined) out['200'] = { description: 'OK', content: Object.fromEntries(produces.map((m) => [m, { schema: { type: 'string' } }])) };
  if (Object.keys(out).length === 0) out['200'] = { description: 'OK' };
  return out;
}

function operationOf(r: CatalogRoute): Operation {
  const schema = r.schema ?? {};
  const op: Operation = { operationId: `${r.method.toLowerCase()}${openApiPath(r.url).replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`, responses: responsesOf(schema) };
  if (typeof schema['summary'] === 'string') op.summary = schema['summary'];
  if (typeof schema['description'] === 'string') op.description = schema['description'];
  if (Array.isArray(schema['tags'])) op.tags = [...(schema['tags'] as string[])];
  const parameters = [...parametersOf(schema['params'], 'path'), ...parametersOf(schema['querystring'], 'query')];
  if (parameters.length > 0) op.parameters = parameters;
  if (schema['body'] !== undefined) op.requestBody = { required: true, content: { 'application/json': { schema: toOpenApiSchema(schema['body']) } } };
  if (r.scope !== undefined) op['x-scope'] = r.scope;
  return op;
}

/** Builds the OpenAPI 3.1 document of `routes`, with `shared` schemas (by $id) as components. */
export function buildOpenApi(routes: readonly CatalogRoute[], shared: readonly Schema[], info: OpenApiDocument['info']): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const r of routes) {
    const path = openApiPath(r.url);
    (paths[path] ??= {})[r.method.toLowerCase()] = operationOf(r);
  }
  const schemas: Record<string, Schema> = {};
  for (const s of shared) schemas[String(s['$id'])] = toOpenApiSchema(s);
  return { openapi: '3.1.0', info, paths, components: { schemas } };
}
