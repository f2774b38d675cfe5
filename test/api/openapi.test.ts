import { describe, expect, it } from 'vitest';
import { buildHttp } from '../../src/api/http.ts';
import type { OpenApiDocument, Operation } from '../../src/api/openapi.ts';
import { FakeNode } from './fake-node.ts';
import { call, makeApp } from './helpers.ts';

/** Every route the API registers, as `METHOD path` in OpenAPI form, with the scope it needs. */
const ROUTES: Record<string, string | undefined> = {
  'GET /api/v1/objects': 'read',
  'GET /api/v1/objects/{id}': 'read',
  'PUT /api/v1/objects/{id}': 'write',
  'PATCH /api/v1/objects/{id}': 'write',
  'DELETE /api/v1/objects/{id}': 'write',
  'DELETE /api/v1/objects/{id}/fields/{field}': 'write',
  'GET /api/v1/members': 'read',
  'GET /api/v1/node': 'read',
  'GET /api/v1/replication': 'read',
  'GET /healthz': undefined,
  'GET /readyz': undefined,
  'POST /sync': 'write',
  'POST /ip': 'write',
  'GET /openapi.json': undefined,
  'GET /docs': undefined,
};

function operations(doc: OpenApiDocument): { key: string; method: string; path: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, method, path, op })));
}

function refsIn(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) for (const x of v) refsIn(x, out);
  else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string') out.push(x);
      else refsIn(x, out);
    }
  }
  return out;
}

async function documentOf(): Promise<OpenApiDocument> {
  const { app } = await makeApp();
  const r = await call(app, 'GET', '/openapi.json');
  expect(r.statusCode).toBe(200);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  return JSON.parse(r.body) as OpenApiDocument;
}

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document listing every registered route with its method, and nothing else', async () => {
    const doc = await documentOf();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBeTruthy();
    expect(operations(doc).map((o) => o.key).sort()).toEqual(Object.keys(ROUTES).sort());
    const { app } = await makeApp();
    for (const { method, path } of operations(doc)) expect(app.hasRoute({ method: method.toUpperCase() as 'GET', url: path.replace(/\{(\w+)\}/g, ':$1') }), `${method} ${path}`).toBe(true);
  });

  it('has the error schema as a component, and every $ref resolves', async () => {
    const doc = await documentOf();
    const error = doc.components.schemas['Error'] as { properties: { error: { required: string[] } } };
    expect(error.properties.error.required).toEqual(['code', 'message']);
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\/\w+$/);
      expect(doc.components.schemas[ref.split('/').pop() ?? ''], ref).toBeDefined();
    }
    // No fastify-only $id is left inside the document.
    expect(JSON.stringify(doc)).not.toContain('"$id"');
  });

  it('describes parameters, bodies, responses and scopes', async () => {
    const doc = await documentOf();
    const ids = new Set<string>();
    const statuses = new Set<string>();
    for (const { key, path, op } of operations(doc)) {
      expect(ids.has(op.operationId), `${key} operationId unique`).toBe(false);
      ids.add(op.operationId);
      expect(op.summary, `${key} summary`).toBeTruthy();
      expect(op['x-scope'], `${key} scope`).toBe(ROUTES[key]);
      for (const s of Object.keys(op.responses)) {
        expect(s).toMatch(/^[1-5]\d\d$/);
        statuses.add(s);
      }
      expect(op.responses['200'], `${key} 200`).toBeDefined();
      expect(op.responses['429'], `${key} 429`).toBeDefined();
      // Every {param} in the path is a required path parameter, and only those.
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name)).toEqual(inPath);
      for (const p of op.parameters ?? []) if (p.in === 'path') expect(p.required).toBe(true);
      if (/^(PUT|PATCH|POST) /.test(key)) expect(op.requestBody?.content['application/json']?.schema, `${key} body`).toBeDefined();
    }
    for (const s of ['200', '400', '404', '409', '413', '429', '500', '503', '504']) expect(statuses.has(s), s).toBe(true);
    const patch = doc.paths['/api/v1/objects/{id}']?.['patch'];
    expect(patch?.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(['path:id', 'query:replicas', 'query:timeoutMs', 'query:ifAbsent']);
    expect(patch?.parameters?.find((p) => p.name === 'timeoutMs')?.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 600000, default: 5000 });
    expect(Object.keys(patch?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '409', '413', '504']));
    expect(doc.paths['/docs']?.['get']?.responses['200']?.content?.['text/html']).toBeDefined();
  });

  it('includes routes other modules register on the app afterwards', async () => {
    const app = buildHttp(new FakeNode(), { rateLimit: { perSecond: 0, burst: 1 } });
    app.get('/metrics', { schema: { summary: 'Prometheus metrics', produces: ['text/plain'] } }, async () => 'up 1\n');
    await app.ready();
    const doc = JSON.parse((await call(app, 'GET', '/openapi.json')).body) as OpenApiDocument;
    expect(doc.paths['/metrics']?.['get']?.summary).toBe('Prometheus metrics');
  });
});

describe('GET /docs', () => {
  it('is one self-contained HTML page listing every route with method, parameters and example bodies', async () => {
    const { app } = await makeApp();
    const r = await call(app, 'GET', '/docs');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = r.body;
    expect(html.startsWith('<!doctype html>')).toBe(true);
    for (const key of Object.keys(ROUTES)) {
      const [method, path] = key.split(' ') as [string, string];
      expect(html, key).toContain(`>${method}</span> <code>${path}</code>`);
    }
    // No scripts and nothing fetched from elsewhere.
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/i);
    expect(html).not.toMatch(/href="https?:/i);
    // Parameters and example bodies.
    expect(html).toContain('<code>replicas</code>');
    expect(html).toContain('integer 1..1000 | &#34;all&#34;');
    expect(html).toContain('&#34;fields&#34;: {');
    expect(html).toContain('&#34;uuid&#34;: &#34;consumer-7d1e&#34;');
    expect(html).toContain('CHORUS_NOT_FOUND');
  });
});
