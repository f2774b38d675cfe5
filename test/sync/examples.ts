import type { NodeId } from '../../src/core/ids.ts';
import { MessageType, type Message } from '../../src/sync/messages.ts';

/** Node ids used by the examples. */
export const A = 'a'.repeat(32) as NodeId;
export const B = 'b'.repeat(32) as NodeId;

/** A well-formed member record of A. */
export const RECORD_A = { nodeId: A, name: 'a', generation: 1, incarnation: 0, status: 'alive', addresses: ['10.0.0.1'], port: 7000, capabilities: [], tags: {} };

const tuple = ['light', 'on', 0, true, 1_700_000_000_000, 0, A, 1];

/** One valid example of every message type, by type name. */
export const EXAMPLES: Readonly<Record<string, Message>> = {
  HELLO: { t: MessageType.HELLO, from: A, mesh: 'home', versions: [1, 1], record: RECORD_A, bootNonce: 'n1', gossip: [RECORD_A] },
  WELCOME: { t: MessageType.WELCOME, from: A, mesh: 'home', version: 1, versions: [1, 2], record: RECORD_A, bootNonce: 'n1' },
  WELCOME_REFUSED: { t: MessageType.WELCOME, from: A, mesh: 'home', version: 0, versions: [1, 1], record: RECORD_A, bootNonce: 'n1', refused: 'version-mismatch' },
  SYN: { t: MessageType.SYN, from: A, members: { [A]: [1, 0, 0], [B]: [2, 3, 1] }, store: { [A]: 4 } },
  SYN_BOOTSTRAPPING: { t: MessageType.SYN, from: A, members: {}, store: null },
  ACK: { t: MessageType.ACK, from: A, records: [tuple], covers: [{ origin: A, from: 0, to: 1 }], complete: true, members: [RECORD_A], memberDigest: { [A]: [1, 0, 0] }, store: { [B]: 2 } },
  ACK2: { t: MessageType.ACK2, from: B, records: [tuple], covers: [{ origin: A, from: 0, to: 1 }], complete: false, members: [] },
  PUSH: { t: MessageType.PUSH, from: A, records: [tuple], hops: 0 },
  PING: { t: MessageType.PING, from: A, probeSeq: 7, target: B },
  PING_REQ: { t: MessageType.PING_REQ, from: A, probeSeq: 8, target: B },
  PING_ACK: { t: MessageType.PING_ACK, from: B, probeSeq: 7, target: B },
  SNAPSHOT_REQ: { t: MessageType.SNAPSHOT_REQ, from: B, cursor: null },
  SNAPSHOT_CHUNK: { t: MessageType.SNAPSHOT_CHUNK, from: A, records: [tuple], cursor: 'light', start: { [A]: 1 } },
  SNAPSHOT_END: { t: MessageType.SNAPSHOT_END, from: A, digest: { [A]: 1 } },
  CMD: { t: MessageType.CMD, from: A, id: 'c1', target: 'hue', action: 'turnOn', args: { level: 80 }, timeoutMs: 5000 },
  CMD_RESULT: { t: MessageType.CMD_RESULT, from: B, id: 'c1', ok: true, result: { done: true } },
  CMD_ERROR: { t: MessageType.CMD_RESULT, from: B, id: 'c1', ok: false, error: { code: 'E_TIMEOUT', message: 'no answer' } },
  PUBLISH: { t: MessageType.PUBLISH, from: A, topic: 'kitchen.light', payload: { on: true } },
  LEAVE: { t: MessageType.LEAVE, from: A, record: { ...RECORD_A, status: 'left', incarnation: 1 } },
  STORED: { t: MessageType.STORED, from: B, digest: { [A]: 3 } },
};
