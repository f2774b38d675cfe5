import { decode, encode } from '../core/codec.ts';
import { isNodeId } from '../core/ids.ts';
import { parseAddress } from './address.ts';

// Every frame on a mesh link carries one link message: a kind byte, then its body.
// ONLY APPEND TO THIS LIST: the codes are on the wire.
/** Link message kinds. */
export const LinkKind = { Data: 0, Hello: 1, Proof: 2, Select: 3 } as const;

/** The link protocol version a node speaks; a peer speaking a higher one must step down to it. */
export const LINK_VERSION = 1;
/** Random bytes in a hello challenge. */
export const CHALLENGE_BYTES = 16;
/** Largest hello or proof body accepted; they are a few dozen bytes. */
const MAX_CONTROL_BYTES = 1024;
const BOOT_RE = /^[0-9a-f]{16}$/;
const CONN_ID_RE = /^[0-9a-f]{32}$/;

/** The first message in each direction of every connection. */
export interface Hello {
  readonly version: number;
  readonly nodeId: string;
  /** The sender's listen address ('host:port'): where it is reached and what it is called. */
  readonly address: string;
  /** Fresh random bytes the other end must echo in its proof. */
  readonly challenge: Uint8Array;
  /** The sender process's random boot id. */
  readonly boot: string;
  /** On a dialed connection: the id of the connection it replaces (the last one it had), else null. */
  readonly replaces: string | null;
}

/** A decoded link message, or why it could not be. */
export type LinkMessage =
  | { readonly kind: 'data'; readonly payload: Uint8Array }
  | { readonly kind: 'hello'; readonly hello: Hello }
  | { readonly kind: 'proof'; readonly echo: Uint8Array }
  | { readonly kind: 'select' }
  | { readonly kind: 'bad'; readonly reason: 'bad-hello' | 'bad-proof' | 'bad-kind' };

/** A data message: the kind byte, then the payload. */
export function encodeData(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 1);
  out[0] = LinkKind.Data;
  out.set(payload, 1);
  return out;
}

/** A hello message. */
export function encodeHello(h: Hello): Uint8Array {
  return withKind(LinkKind.Hello, encode({ v: h.version, n: h.nodeId, a: h.address, c: h.challenge, b: h.boot, r: h.replaces }));
}

/** A proof: the peer's challenge, echoed under our session, shows the connection is live, not replayed. */
export function encodeProof(echo: Uint8Array): Uint8Array {
  return withKind(LinkKind.Proof, encode({ e: echo }));
}

/** The arbiter's word that this connection carries the link. */
export function encodeSelect(): Uint8Array {
  return Uint8Array.of(LinkKind.Select);
}

/** Decodes a link message from an opened frame's payload; never throws. */
export function decodeLinkMessage(payload: Uint8Array): LinkMessage {
  const kind = payload[0];
  const body = payload.subarray(1);
  switch (kind) {
    case LinkKind.Data:
      return { kind: 'data', payload: body };
    case LinkKind.Hello: {
      const hello = decodeHello(body);
      return hello === undefined ? { kind: 'bad', reason: 'bad-hello' } : { kind: 'hello', hello };
    }
    case LinkKind.Proof: {
      const m = decodeControl(body) as { e?: unknown } | undefined;
      return isBytes(m?.e, CHALLENGE_BYTES) ? { kind: 'proof', echo: m.e } : { kind: 'bad', reason: 'bad-proof' };
    }
    case LinkKind.Select:
      return body.length === 0 ? { kind: 'select' } : { kind: 'bad', reason: 'bad-kind' };
    default:
      return { kind: 'bad', reason: 'bad-kind' };
  }
}

/** The connection id both ends derive from the dialer's challenge. */
export function connectionId(dialerChallenge: Uint8Array): string {
  return Buffer.from(dialerChallenge.buffer, dialerChallenge.byteOffset, dialerChallenge.length).toString('hex');
}

function decodeHello(body: Uint8Array): Hello | undefined {
  const m = decodeControl(body) as { v?: unknown; n?: unknown; a?: unknown; c?: unknown; b?: unknown; r?: unknown } | undefined;
  if (m === undefined) return undefined;
  const { v, n, a, c, b, r } = m;
  if (!Number.isSafeInteger(v) || (v as number) < 1) return undefined;
  if (!isNodeId(n) || typeof b !== 'string' || !BOOT_RE.test(b) || !isBytes(c, CHALLENGE_BYTES)) return undefined;
  const address = parseAddress(a);
  if (address === undefined || address.port === 0) return undefined;
  if (r !== null && (typeof r !== 'string' || !CONN_ID_RE.test(r))) return undefined;
  return { version: v as number, nodeId: n, address: a as string, challenge: c, boot: b, replaces: r };
}

function decodeControl(body: Uint8Array): unknown {
  if (body.length > MAX_CONTROL_BYTES) return undefined;
  try {
    const m = decode(body);
    return typeof m === 'object' && m !== null && !Array.isArray(m) ? m : undefined;
  } catch {
    return undefined;
  }
}

function isBytes(x: unknown, length: number): x is Uint8Array {
  return x instanceof Uint8Array && x.length === length;
}

function withKind(kind: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 1);
  out[0] = kind;
  out.set(body, 1);
  return out;
}
