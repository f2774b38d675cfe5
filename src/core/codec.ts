import { Packr } from 'msgpackr';

// One shared MessagePack codec for the wire and for storage. Records are plain arrays and
// maps, so no structure extension state has to be shared between encoder and decoder.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });

/** Encodes a value to MessagePack bytes. */
export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes MessagePack bytes; throws on malformed input (callers validate the result). */
export function decode(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}
