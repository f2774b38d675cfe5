import { MAX_OBJECT_ID_LENGTH } from '../core/ids.ts';
import { MAX_FIELD_NAME_LENGTH } from '../store/record.ts';

// JSON Schemas of the API. Shared ones carry an $id: fastify validates and serializes with them
// (`{ $ref: 'Error#' }`), and the OpenAPI document lists them under components.schemas.

/** A JSON Schema as a plain object. */
export type Schema = Record<string, unknown>;

/** `{ $ref }` to a shared schema by its $id. */
export const ref = (id: string): Schema => ({ $ref: `${id}#` });

/** The error shape of every non-2xx answer. */
export const ErrorSchema: Schema = {
  $id: 'Error',
  type: 'object',
  description: 'Every error: a stable code, a message naming what was wrong, and sometimes details (a write-concern timeout adds confirmed and required).',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable machine-readable code, e.g. CHORUS_NOT_FOUND.' },
        message: { type: 'string' },
        confirmed: { type: 'array', items: { type: 'string' }, description: 'Write-concern timeout only: peers that confirmed.' },
        required: { type: 'integer', description: 'Write-concern timeout only: confirmations asked for.' },
        checks: { type: 'object', additionalProperties: { type: 'boolean' }, description: 'Health failure only: each check.' },
      },
    },
  },
  examples: [{ error: { code: 'CHORUS_NOT_FOUND', message: 'object "kitchen-light" does not exist' } }],
};

/** An object's fields: top-level JSON values, each a last-writer-wins register. */
export const FieldsSchema: Schema = {
  $id: 'Fields',
  type: 'object',
  description: 'Field name to JSON value.',
  additionalProperties: true,
  examples: [{ on: true, level: 80 }],
};

/** One object. */
export const ObjectSchema: Schema = {
  $id: 'ObjectEntry',
  type: 'object',
  required: ['id', 'fields'],
  properties: { id: { type: 'string' }, fields: ref('Fields') },
  examples: [{ id: 'kitchen-light', fields: { on: true, level: 80 } }],
};

/** The answer to a write: the object as it is now, plus the write concern met when one was asked for. */
export const WriteResultSchema: Schema = {
  $id: 'WriteResult',
  type: 'object',
  description: 'The object after the write (fields), or deleted: true after DELETE of the object.',
  required: ['id'],
  properties: {
    id: { type: 'string' },
    fields: ref('Fields'),
    deleted: { type: 'boolean', description: 'DELETE of an object only.' },
    replicas: {
      type: 'object',
      description: 'Present when ?replicas was given: the peers that confirmed storing the write.',
      required: ['confirmed', 'required'],
      properties: { confirmed: { type: 'array', items: { type: 'string' } }, required: { type: 'integer' } },
    },
  },
  examples: [{ id: 'kitchen-light', fields: { on: true, level: 80 }, replicas: { confirmed: ['3f1c0d2a9b8e7f605a4b3c2d1e0f9a8b'], required: 1 } }],
};

/** A member record as its owner wrote it. */
export const MemberSchema: Schema = {
  $id: 'Member',
  type: 'object',
  required: ['nodeId', 'name', 'generation', 'incarnation', 'status', 'addresses', 'port'],
  properties: {
    nodeId: { type: 'string' },
    name: { type: 'string' },
    generation: { type: 'integer' },
    incarnation: { type: 'integer' },
    status: { type: 'string', enum: ['alive', 'suspect', 'dead', 'left'] },
    addresses: { type: 'array', items: { type: 'string' } },
    port: { type: 'integer' },
    capabilities: { type: 'array', items: { type: 'string' } },
    tags: { type: 'object', additionalProperties: { type: 'string' } },
    suspectedBy: { type: 'string' },
  },
};

/** This node: identity, addresses, store and traffic, peers and their links. */
export const NodeInfoSchema: Schema = {
  $id: 'NodeInfo',
  type: 'object',
  properties: {
    nodeId: { type: 'string' },
    name: { type: 'string' },
    mesh: { type: 'string' },
    generation: { type: 'integer' },
    addresses: { type: 'array', items: { type: 'string' } },
    port: { type: 'integer' },
    url: { type: 'string' },
    uptimeS: { type: 'integer' },
    secure: { type: 'boolean' },
    bootstrapping: { type: 'boolean' },
    store: {
      type: 'object',
      properties: { objects: { type: 'integer' }, liveFields: { type: 'integer' }, tombstones: { type: 'integer' }, encodedBytes: { type: 'integer' } },
    },
    transport: {
      type: 'object',
      properties: { bytesIn: { type: 'integer' }, bytesOut: { type: 'integer' }, framesIn: { type: 'integer' }, framesOut: { type: 'integer' } },
    },
    peers: {
      type: 'array',
      items: {
        type: 'object',
        properties: { nodeId: { type: 'string' }, name: { type: 'string' }, status: { type: 'string' }, address: { type: 'string' }, link: { type: 'string', description: 'Mesh link state, or none.' } },
      },
    },
    integrity: {
      type: 'object',
      description: 'Tombstone collection, and every record dropped rather than applied: stale (older than a deletion the mesh already forgot) or a reused (origin, seq).',
      properties: {
        tombstonesCollected: { type: 'integer' },
        staleDetected: { type: 'integer', description: 'Times a peer had forgotten deletions this node never saw, so it verified itself by snapshot.' },
        staleRecordsDropped: { type: 'integer' },
        supersededRecordsDropped: { type: 'integer' },
        seqConflicts: { type: 'integer' },
        ownWritesRenumbered: { type: 'integer', description: 'Writes moved to new sequence numbers after a restore from an older copy.' },
        recentDrops: {
          type: 'array',
          items: {
            type: 'object',
            properties: { reason: { type: 'string' }, objectId: { type: 'string' }, field: { type: 'string' }, origin: { type: 'string' }, seq: { type: 'integer' }, tsMs: { type: 'integer' }, at: { type: 'integer' } },
          },
        },
      },
    },
  },
};

/** One peer's replication state. */
export const PeerReplicationSchema: Schema = {
  $id: 'PeerReplication',
  type: 'object',
  properties: {
    nodeId: { type: 'string' },
    name: { type: 'string' },
    status: { type: 'string' },
    lagRecords: { type: ['integer', 'null'], description: "Records of this node's digest the peer's last known digest lacks; null if never seen." },
    confirmedSeq: { type: 'integer', description: "Highest seq of this node's writes the peer confirmed committing." },
    lastContactAgoMs: { type: ['integer', 'null'], description: 'Milliseconds since the peer was last heard from; null if never.' },
  },
};

/** A peer as the consumer-scheduler endpoints report it. */
export const CompatPeerSchema: Schema = {
  $id: 'CompatPeer',
  type: 'object',
  required: ['uuid', 'address', 'available', 'lastSeen', 'kind'],
  properties: {
    uuid: { type: 'string' },
    address: { type: 'string', description: 'host:port of a mesh member, the IP of a compat peer.' },
    available: { type: 'boolean' },
    lastSeen: { type: ['string', 'null'], description: 'ISO 8601 time last heard from, null if never.' },
    kind: { type: 'string', enum: ['member', 'compat'] },
  },
};

/** Shared schemas in the order they are registered. */
export const SHARED_SCHEMAS: readonly Schema[] = [ErrorSchema, FieldsSchema, ObjectSchema, WriteResultSchema, MemberSchema, NodeInfoSchema, PeerReplicationSchema, CompatPeerSchema];

/** Path parameter: an object id. */
export const objectIdParam: Schema = { type: 'string', minLength: 1, maxLength: MAX_OBJECT_ID_LENGTH, description: 'Object id (URL-encoded).' };

/** Path parameter: a field name. */
export const fieldParam: Schema = { type: 'string', minLength: 1, maxLength: MAX_FIELD_NAME_LENGTH, description: 'Field name (URL-encoded).' };

/** Highest number of peers a write concern may ask for. */
export const MAX_REPLICAS = 1000;
/** Longest write-concern wait, in milliseconds. */
export const MAX_TIMEOUT_MS = 600_000;
/** Write-concern wait when ?timeoutMs is not given. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** Query of a write: the write concern. */
export const writeConcernQuery: Record<string, Schema> = {
  replicas: {
    description: `Wait until this many peers (1 to ${MAX_REPLICAS}) or "all" alive peers confirm storing the write; 504 on timeout (the local write stands).`,
    anyOf: [{ type: 'integer', minimum: 1, maximum: MAX_REPLICAS }, { type: 'string', const: 'all' }],
  },
  timeoutMs: { type: 'integer', minimum: 1, maximum: MAX_TIMEOUT_MS, default: DEFAULT_TIMEOUT_MS, description: 'How long to wait for the write concern, in milliseconds.' },
};

/** What each error status means in this API, for the OpenAPI document and /docs. */
const ERROR_MEANING: Readonly<Record<number, string>> = {
  400: 'Invalid input: error.message names the field and the rule',
  404: 'No such object, field or route',
  409: 'ifAbsent=true and the object already exists',
  413: 'The body is over the limit (1 MiB by default), or a value is over the store limit',
  429: 'Rate limited per client address: see the Retry-After header',
  500: 'Internal error: see the node log',
  503: 'The node is shutting down, or not yet started',
  504: 'Write concern not met in time: error.confirmed and error.required say how far it got; the local write stands',
};

/** Error responses of a route: the given statuses plus those any route may give (429, 500, 503). */
export function errorResponses(...statuses: number[]): Record<number, Schema> {
  const out: Record<number, Schema> = {};
  for (const s of [...statuses, 429, 500, 503].sort((a, b) => a - b)) out[s] = { description: ERROR_MEANING[s] ?? 'Error', ...ref('Error') };
  return out;
}
