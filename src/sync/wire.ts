import { decode, encode } from '../core/codec.ts';
import type { Message } from './messages.ts';

/**
 * What `decodeMessage` returns for bytes that are not MessagePack or exceed the size limit:
 * a marker `validateMessage` turns into the drop reason it names, so decoding never throws.
 */
export class Undecodable {
  constructor(readonly reason: 'undecodable' | 'too-large') {}
}

/**
 * Encodes a message as MessagePack. Messages are plain data already in wire form (records
 * as record-codec tuples, short field names), so the encoding is the message itself.
 */
export function encodeMessage(m: Message): Uint8Array {
  return encode(m);
}

/**
 * Decodes bytes from a peer. Returns an `Undecodable` instead of throwing; the result is
 * untrusted and must go through `validateMessage` (Engine.receive does).
 */
export function decodeMessage(bytes: Uint8Array, maxBytes = Number.MAX_SAFE_INTEGER): unknown {
  if (bytes.length > maxBytes) return new Undecodable('too-large');
  try {
    return decode(bytes);
  } catch {
    return new Undecodable('undecodable');
  }
}
