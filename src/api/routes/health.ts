import type { FastifyInstance } from 'fastify';
import { ErrorCode } from '../../core/errors.ts';
import { ApiError } from '../errors.ts';
import type { NodeApi } from '../node-api.ts';
import { errorResponses, ref } from '../schemas.ts';

/** Probes: /healthz (process, storage and transport up) and /readyz (bootstrap done). */
export function registerHealthRoutes(app: FastifyInstance, api: NodeApi): void {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: process, storage and transport are up',
        description: '503 with the failing checks in error.checks otherwise.',
        tags: ['probes'],
        response: {
          200: { type: 'object', required: ['status', 'checks'], properties: { status: { type: 'string', const: 'ok' }, checks: { type: 'object', additionalProperties: { type: 'boolean' } } }, examples: [{ status: 'ok', checks: { process: true, storage: true, transport: true } }] },
          ...errorResponses(),
          503: { description: 'A check failed (error.checks has each), or the node is shutting down', ...ref('Error') },
        },
      },
    },
    async () => {
      const h = api.health();
      if (h.ok) return { status: 'ok', checks: h.checks };
      const failing = Object.entries(h.checks).filter(([, ok]) => !ok).map(([name]) => name);
      throw new ApiError(503, ErrorCode.Unhealthy, `failing: ${failing.join(', ')}`, { checks: h.checks });
    },
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: bootstrap is done and the node serves a full copy',
        description: '503 while a snapshot bootstrap runs, while starting and while stopping.',
        tags: ['probes'],
        response: {
          200: { type: 'object', required: ['status'], properties: { status: { type: 'string', const: 'ready' } } },
          ...errorResponses(),
          503: { description: 'Not ready: starting, bootstrapping from a peer, or stopping', ...ref('Error') },
        },
      },
    },
    async () => {
      if (!api.ready()) throw new ApiError(503, ErrorCode.NotReady, 'not ready: the node is starting, bootstrapping from a peer, or stopping');
      return { status: 'ready' };
    },
  );
}
