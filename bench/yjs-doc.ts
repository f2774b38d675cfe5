import * as Y from 'yjs';

/**
 * Yjs draws a random 32-bit client id, and every item's origin stores it as a varint, so state
 * sizes would vary by about 1 byte per item from run to run. A fixed id at or above 2^28 (a
 * 5-byte varint, as for 15 in 16 random ids) makes figures reproducible and typical.
 */
export const YJS_CLIENT_ID = 0x9e3779b9;

/** A Y.Doc whose client id is YJS_CLIENT_ID, for benchmark sources. */
export function fixedIdDoc(): Y.Doc {
  const doc = new Y.Doc();
  doc.clientID = YJS_CLIENT_ID;
  return doc;
}
