import { decode, encode } from '../core/codec.ts';
import { isNodeId, type NodeId } from '../core/ids.ts';

/**
 * What seals and opens beacons: FrameCodec from frame.ts, or any object of this shape. The
 * codec authenticates the mesh label and the payload, so what it refuses is never trusted.
 */
export interface BeaconCodec {
  /** Wraps a payload into one datagram. */
  seal(payload: Uint8Array): Uint8Array;
  /** Unwraps a datagram, or says why it was refused (wrong mesh, wrong key, replay, malformed...). */
  open(frame: Uint8Array): { readonly ok: true; readonly payload: Uint8Array } | { readonly ok: false; readonly reason: string };
}

/** A query asks every node that hears it to answer; an announcement answers or tells unasked. */
export type BeaconKind = 'query' | 'announce';

/** The discovery beacon, as encoded (MessagePack) inside the sealed frame. */
export interface Beacon {
  readonly kind: BeaconKind;
  /** The mesh name; must equal the receiver's (the codec authenticates it as well). */
  readonly mesh: string;
  readonly nodeId: NodeId;
  /** The sender's mesh (HTTP) port; its address is the datagram's source IP, never a payload field. */
  readonly port: number;
  /** The sender's generation (ESPGossip's revision), when it knows it. */
  readonly generation?: number;
  /** Padding that makes a query at least as large as any answer to it (no amplification). */
  readonly pad?: Uint8Array;
}

/** Largest datagram read at all: below a 1280-byte IPv6 minimum MTU, so beacons never fragment. */
export const MAX_BEACON_BYTES = 1200;
/** Largest padding accepted in a beacon. */
export const MAX_PAD_BYTES = 1024;
/** Smallest encoded query payload (before sealing): leaves room for answers that grow a little. */
export const MIN_QUERY_PAYLOAD_BYTES = 128;

/** Why a payload is not a beacon for this mesh. */
export type BeaconProblem = 'decode' | 'invalid' | 'mesh';

/** A parsed beacon, or why the payload was refused. */
export type ParsedBeacon = { readonly ok: true; readonly beacon: Beacon } | { readonly ok: false; readonly reason: BeaconProblem };

/** Encodes a beacon to MessagePack, omitting absent optional fields. */
export function encodeBeacon(b: Beacon): Uint8Array {
  const out: Record<string, unknown> = { kind: b.kind, mesh: b.mesh, nodeId: b.nodeId, port: b.port };
  if (b.generation !== undefined) out['generation'] = b.generation;
  if (b.pad !== undefined) out['pad'] = b.pad;
  return encode(out);
}

/** Decodes and validates a beacon of `mesh`; unknown extra fields are ignored (forward compatibility). */
export function parseBeacon(bytes: Uint8Array, mesh: string): ParsedBeacon {
  let v: unknown;
  try {
    v = decode(bytes);
  } catch {
    return { ok: false, reason: 'decode' };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, reason: 'invalid' };
  const o = v as Record<string, unknown>;
  const { kind, nodeId, port, generation, pad } = o;
  if (kind !== 'query' && kind !== 'announce') return { ok: false, reason: 'invalid' };
  if (typeof o['mesh'] !== 'string') return { ok: false, reason: 'invalid' };
  if (!isNodeId(nodeId)) return { ok: false, reason: 'invalid' };
  if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) return { ok: false, reason: 'invalid' };
  if (generation !== undefined && !(Number.isSafeInteger(generation) && (generation as number) >= 0)) return { ok: false, reason: 'invalid' };
  if (pad !== undefined && !(pad instanceof Uint8Array && pad.length <= MAX_PAD_BYTES)) return { ok: false, reason: 'invalid' };
  if (o['mesh'] !== mesh) return { ok: false, reason: 'mesh' };
  const beacon: Beacon = { kind, mesh, nodeId, port: port as number, ...(generation === undefined ? {} : { generation: generation as number }) };
  return { ok: true, beacon };
}

/** Encoded size of the largest announcement any node of `mesh` can send (widest port and generation). */
export function largestAnnounceBytes(mesh: string): number {
  return encodeBeacon({ kind: 'announce', mesh, nodeId: 'f'.repeat(32) as NodeId, port: 65535, generation: Number.MAX_SAFE_INTEGER }).length;
}

/**
 * Encodes a query padded to at least `minBytes` (and at least any announcement of its mesh),
 * so that, sealed by the same codec, it is never smaller than the answer it asks for.
 */
export function encodePaddedQuery(q: Omit<Beacon, 'kind' | 'pad'>, minBytes = MIN_QUERY_PAYLOAD_BYTES): Uint8Array {
  const target = Math.max(minBytes, largestAnnounceBytes(q.mesh));
  const bare: Beacon = { ...q, kind: 'query' };
  let bytes = encodeBeacon(bare);
  // The pad's own key and length header take a few bytes, and the header widens at 256:
  // grow until the target is reached (two or three rounds at most).
  let padLength = 0;
  while (bytes.length < target && padLength < MAX_PAD_BYTES) {
    padLength = Math.min(MAX_PAD_BYTES, padLength + Math.max(1, target - bytes.length));
    bytes = encodeBeacon({ ...bare, pad: new Uint8Array(padLength) });
  }
  return bytes;
}
