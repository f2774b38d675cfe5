import { isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorCode } from '../../core/errors.ts';
import { isCompatUuid } from '../../node/compat-peers.ts';
import { ApiError } from '../errors.ts';
import type { NodeApi } from '../node-api.ts';
import { errorResponses, ref, type Schema } from '../schemas.ts';

// The consumer scheduler's endpoints (seed 004), outside /api/v1 at the paths its peers call.
// Bodies may carry more than the seed's fields: a foreign client's extras are ignored.

const uuidSchema: Schema = { type: 'string', minLength: 1, maxLength: 128, description: "The caller's id: 1 to 128 printable characters." };

function checkUuid(uuid: string): void {
  if (!isCompatUuid(uuid)) throw new ApiError(400, ErrorCode.BadRequest, 'body/uuid must not contain control characters or unpaired surrogates');
}

/** The caller's IP as the socket saw it (IPv4-mapped IPv6 written as IPv4). */
function sourceAddress(req: FastifyRequest): string {
  const a = req.socket.remoteAddress ?? req.ip;
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

/** POST /sync and POST /ip. */
export function registerCompatRoutes(app: FastifyInstance, api: NodeApi): void {
  app.post<{ Body: { uuid: string } }>(
    '/sync',
    {
      config: { scope: 'write' },
      schema: {
        summary: 'Consumer-scheduler sync: learn of each other',
        description: "Records the caller (uuid and the address it spoke from) as an available peer and answers with this node's id and the peers it knows, except the caller.",
        tags: ['compatibility'],
        body: { type: 'object', required: ['uuid'], properties: { uuid: uuidSchema }, examples: [{ uuid: 'consumer-7d1e' }] },
        response: {
          200: { type: 'object', required: ['uuid', 'peers'], properties: { uuid: { type: 'string' }, peers: { type: 'array', items: ref('CompatPeer') } } },
          ...errorResponses(400, 413),
        },
      },
    },
    async (req) => {
      checkUuid(req.body.uuid);
      return api.compatSync(req.body.uuid, sourceAddress(req));
    },
  );

  app.post<{ Body: { uuid: string; ip: string } }>(
    '/ip',
    {
      config: { scope: 'write' },
      schema: {
        summary: "Consumer-scheduler IP update: a peer's address changed",
        description: 'The peer keeps its identity; a mesh member is dialled at the new address, a compat peer is recorded there.',
        tags: ['compatibility'],
        body: {
          type: 'object',
          required: ['uuid', 'ip'],
          properties: { uuid: uuidSchema, ip: { type: 'string', minLength: 2, maxLength: 64, description: 'An IPv4 or IPv6 literal.' } },
          examples: [{ uuid: 'consumer-7d1e', ip: '192.168.1.23' }],
        },
        response: {
          200: { type: 'object', required: ['uuid', 'peer'], properties: { uuid: { type: 'string' }, peer: ref('CompatPeer') } },
          ...errorResponses(400, 413),
        },
      },
    },
    async (req) => {
      checkUuid(req.body.uuid);
      if (isIP(req.body.ip) === 0) throw new ApiError(400, ErrorCode.BadRequest, `body/ip must be an IPv4 or IPv6 address, got ${JSON.stringify(req.body.ip)}`);
      const peer = await api.compatIp(req.body.uuid, req.body.ip);
      return { uuid: api.info().nodeId, peer };
    },
  );
}
