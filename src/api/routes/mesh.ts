import type { FastifyInstance } from 'fastify';
import type { NodeApi } from '../node-api.ts';
import { errorResponses, ref } from '../schemas.ts';

/** The mesh as this node sees it: members, this node, replication to each peer. */
export function registerMeshRoutes(app: FastifyInstance, api: NodeApi): void {
  app.get(
    '/api/v1/members',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Mesh members and their status',
        description: 'This node first, then every member it knows, as each owner wrote its record.',
        tags: ['mesh'],
        response: { 200: { type: 'object', required: ['members'], properties: { members: { type: 'array', items: ref('Member') } } }, ...errorResponses() },
      },
    },
    async () => ({ members: api.members() }),
  );

  app.get(
    '/api/v1/node',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'This node',
        description: 'Identity, generation, addresses, port, uptime, store size, mesh traffic, and each peer with its link state.',
        tags: ['mesh'],
        response: { 200: ref('NodeInfo'), ...errorResponses() },
      },
    },
    async () => api.info(),
  );

  app.get(
    '/api/v1/replication',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Replication to each peer',
        description: "Per peer: how many of this node's records its last digest lacks, the highest of our writes it confirmed storing, and how long ago it was heard from.",
        tags: ['mesh'],
        response: { 200: { type: 'object', required: ['peers'], properties: { peers: { type: 'array', items: ref('PeerReplication') } } }, ...errorResponses() },
      },
    },
    async () => ({ peers: api.replication() }),
  );
}
