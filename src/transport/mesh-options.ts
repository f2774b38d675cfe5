import { ChorusError, ErrorCode } from '../core/errors.ts';
import { isNodeId } from '../core/ids.ts';
import { checkAddress } from './address.ts';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import type { FrameCodec } from './frame.ts';
import type { LinkState, TransportLogger } from './transport.ts';

/** The HTTP path mesh links upgrade on. */
export const MESH_PATH = '/mesh';
/** The WebSocket subprotocol both ends must name; its suffix is the link protocol generation. */
export const MESH_SUBPROTOCOL = 'chorus-mesh-1';

/** Limits of a MeshTransport; every default carries its reason. */
export interface LinkLimits {
  /** Packets queued per link while it connects (256: a few seconds of probes and pushes; older ones are stale). */
  readonly maxQueuedPackets: number;
  /** Stream messages queued per link while it connects (4096: a sync round's batches; more means the peer is gone). */
  readonly maxQueuedStream: number;
  /** Bytes queued per link while it connects (16 MiB: four full frames). */
  readonly maxQueuedBytes: number;
  /** Bytes the socket may hold unsent before packets are dropped and a stream send resets the link (16 MiB). */
  readonly maxBufferedBytes: number;
  /** Time for a connection to finish its handshake (10 s: generous for a LAN, short for a stalled attacker). */
  readonly handshakeTimeoutMs: number;
  /** Ping interval; a peer silent for two intervals is dropped (15 s: half-open links found within 30 s). */
  readonly keepaliveMs: number;
  /** A link nobody sent to for this long is not redialed (5 min: longer than any protocol round). */
  readonly idleLinkMs: number;
  /** Connections allowed to be in their handshake at once (64: bounds what unauthenticated peers can hold). */
  readonly maxPendingConnections: number;
  /** A connection must stay open this long before the backoff resets (5 s: stops reconnect storms on flapping links). */
  readonly stableLinkMs: number;
  /** How long close() waits for closing handshakes before destroying sockets (2 s). */
  readonly closeGraceMs: number;
}

/** The defaults of LinkLimits. */
export const DEFAULT_LINK_LIMITS: LinkLimits = {
  maxQueuedPackets: 256,
  maxQueuedStream: 4096,
  maxQueuedBytes: 16 * 1024 * 1024,
  maxBufferedBytes: 16 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  keepaliveMs: 15_000,
  idleLinkMs: 300_000,
  maxPendingConnections: 64,
  stableLinkMs: 5_000,
  closeGraceMs: 2_000,
};

/** Options of a MeshTransport. */
export interface MeshTransportOptions {
  readonly mesh: string;
  /** This node's id (32 lowercase hex characters). */
  readonly nodeId: string;
  /** Where peers reach us ('host:port'); port 0 until the server listens, then setSelfAddress. */
  readonly selfAddress: string;
  readonly codec: FrameCodec;
  /** The WebSocket maxPayload and the frame limit of sends (default: the codec's maxFrameBytes). */
  readonly maxFrameBytes?: number;
  /** Every payload from a peer, with the peer's declared listen address. */
  readonly onMessage: (fromAddress: string, payload: Uint8Array) => void;
  readonly onLinkState?: (address: string, state: LinkState) => void;
  readonly logger?: TransportLogger;
  /** Reconnect backoff (default 100 ms doubling to 30 s, with jitter). */
  readonly backoff?: BackoffOptions;
  readonly limits?: Partial<LinkLimits>;
  /** Source of jitter in [0, 1) (default Math.random). */
  readonly random?: () => number;
}

/** Options with every default applied, validated. */
export interface ResolvedMeshOptions {
  readonly limits: LinkLimits;
  readonly backoff: BackoffOptions;
  readonly logger: TransportLogger;
  readonly random: () => number;
  readonly maxFrameBytes: number;
  /** Largest payload one frame carries: under both frame limits, after the link's kind byte. */
  readonly maxPayloadBytes: number;
  readonly selfAddress: string;
}

const silent: TransportLogger = { info: () => undefined, warn: () => undefined, debug: () => undefined };

/** Applies defaults and validates; throws CHORUS_INVALID_CONFIG or CHORUS_INVALID_ADDRESS naming the option. */
export function resolveMeshOptions(o: MeshTransportOptions): ResolvedMeshOptions {
  if (!isNodeId(o.nodeId)) throw new ChorusError(ErrorCode.InvalidConfig, `nodeId must be 32 lowercase hex characters, got ${JSON.stringify(o.nodeId)}`);
  if (o.codec.mesh !== o.mesh) throw new ChorusError(ErrorCode.InvalidConfig, `the codec seals for mesh ${JSON.stringify(o.codec.mesh)}, not ${JSON.stringify(o.mesh)}`);
  const backoff = o.backoff ?? DEFAULT_BACKOFF;
  if (!(backoff.minMs > 0 && backoff.maxMs >= backoff.minMs)) throw new ChorusError(ErrorCode.InvalidConfig, `backoff needs 0 < minMs <= maxMs, got ${JSON.stringify(backoff)}`);
  const limits = { ...DEFAULT_LINK_LIMITS, ...o.limits };
  for (const [name, v] of Object.entries(limits)) {
    if (!Number.isSafeInteger(v) || v < 0) throw new ChorusError(ErrorCode.InvalidConfig, `limits.${name} must be a non-negative integer, got ${v}`);
  }
  const maxFrameBytes = o.maxFrameBytes ?? o.codec.maxFrameBytes;
  if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 256) throw new ChorusError(ErrorCode.InvalidConfig, `maxFrameBytes must be an integer of at least 256, got ${maxFrameBytes}`);
  const overhead = o.codec.maxFrameBytes - o.codec.maxPayloadBytes;
  return {
    limits,
    backoff,
    logger: o.logger ?? silent,
    random: o.random ?? Math.random,
    maxFrameBytes,
    maxPayloadBytes: Math.min(o.codec.maxFrameBytes, maxFrameBytes) - overhead - 1,
    selfAddress: checkAddress(o.selfAddress, 'selfAddress'),
  };
}

/** Why an upgrade request to /mesh is refused before any WebSocket exists, or undefined to accept it. */
export function upgradeRefusal(headers: { readonly origin?: string | undefined; readonly 'sec-websocket-protocol'?: string | undefined }, closing: boolean, pending: number, maxPending: number): { readonly status: number; readonly reason: string } | undefined {
  if (closing) return { status: 503, reason: 'closing' };
  // Mesh peers are nodes, never browsers: a web page must not reach the mesh through a user's browser.
  if (headers.origin !== undefined) return { status: 403, reason: 'origin' };
  const protocols = (headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  if (!protocols.includes(MESH_SUBPROTOCOL)) return { status: 400, reason: 'subprotocol' };
  if (pending >= maxPending) return { status: 503, reason: 'busy' };
  return undefined;
}
