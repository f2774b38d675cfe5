import type { FastifyInstance } from 'fastify';
import { renderDocs } from '../docs.ts';
import { buildOpenApi, type OpenApiDocument, type RouteCatalog } from '../openapi.ts';
import { errorResponses, SHARED_SCHEMAS } from '../schemas.ts';

const INFO: OpenApiDocument['info'] = {
  title: 'Chorus node API',
  version: 'v1',
  description: 'The REST face of one Chorus node: objects (reads are local, writes commit locally then replicate), the mesh, probes, and the consumer-scheduler compatibility endpoints.',
};

/** GET /openapi.json and GET /docs, generated from the routes in `catalog` at first request. */
export function registerDocsRoutes(app: FastifyInstance, catalog: RouteCatalog): void {
  // Built once the app is ready, so routes other modules add after these are included.
  let doc: OpenApiDocument | undefined;
  let html: string | undefined;
  const document = (): OpenApiDocument => (doc ??= buildOpenApi(catalog.routes, SHARED_SCHEMAS, INFO));

  app.get(
    '/openapi.json',
    {
      schema: {
        summary: 'This API as an OpenAPI 3.1 document',
        tags: ['docs'],
        response: { 200: { type: 'object', additionalProperties: true, description: 'The OpenAPI document.' }, ...errorResponses() },
      },
    },
    async () => document(),
  );

  app.get(
    '/docs',
    { schema: { summary: 'This API as a readable page', tags: ['docs'], produces: ['text/html'], response: errorResponses() } },
    async (_req, reply) => reply.type('text/html; charset=utf-8').send((html ??= renderDocs(document()))),
  );
}
