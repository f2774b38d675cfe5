import fc from 'fast-check';
import type { NodeId } from '../../src/core/ids.ts';
import { MessageType, type Message } from '../../src/sync/messages.ts';

// fast-check generators of valid messages, for the wire round trip and the fuzzer.

/** A node id. */
export const nodeIdArb: fc.Arbitrary<NodeId> = fc.stringMatching(/^[0-9a-f]{32}$/).map((s) => s as NodeId);

/** JSON as it survives MessagePack exactly: no -0, no "__proto__" keys. */
export const jsonArb = fc
  .jsonValue({ maxDepth: 3 })
  .map((v) => JSON.parse(JSON.stringify(v)) as unknown)
  .filter((v) => !JSON.stringify(v).includes('"__proto__"'));

const str = (max = 40): fc.Arbitrary<string> => fc.string({ minLength: 1, maxLength: max });
const count = fc.nat({ max: 2 ** 40 });
const digestArb = fc.dictionary(nodeIdArb, count, { maxKeys: 4 });
const memberDigestArb = fc.dictionary(nodeIdArb, fc.tuple(count, count, fc.integer({ min: 0, max: 3 })), { maxKeys: 4 });
const versionsArb = fc.tuple(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 10 })).map(([lo, d]) => [lo, lo + d] as const);
const tupleArb = fc.tuple(str(), str(), fc.constantFrom(0, 1), jsonArb, count, count, nodeIdArb, count);
const recordsArb = fc.array(tupleArb, { maxLength: 4 });
const coversArb = fc.array(
  fc.record({ origin: nodeIdArb, from: count, to: count }).map((c) => ({ ...c, to: c.from + c.to })),
  { maxLength: 3 },
);

function memberRecordArb(nodeId: NodeId): fc.Arbitrary<Record<string, unknown>> {
  return fc.record({
    nodeId: fc.constant(nodeId),
    name: fc.string({ maxLength: 20 }),
    generation: count,
    incarnation: count,
    status: fc.constantFrom('alive', 'suspect', 'dead', 'left'),
    addresses: fc.array(fc.ipV4(), { maxLength: 2 }),
    port: fc.integer({ min: 0, max: 65535 }),
    capabilities: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
    tags: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__proto__'), fc.string({ maxLength: 8 }), { maxKeys: 2 }),
  });
}

type Body = (from: NodeId) => fc.Arbitrary<Record<string, unknown>>;

const BODIES: readonly Body[] = [
  (from) => fc.record({ t: fc.constant(MessageType.HELLO), mesh: str(), versions: versionsArb, record: memberRecordArb(from), bootNonce: str() }),
  (from) =>
    fc.oneof(
      fc.record({ t: fc.constant(MessageType.WELCOME), mesh: str(), version: fc.integer({ min: 1, max: 9 }), versions: versionsArb, record: memberRecordArb(from), bootNonce: str() }),
      fc.record({
        t: fc.constant(MessageType.WELCOME),
        mesh: str(),
        version: fc.constant(0),
        versions: versionsArb,
        record: memberRecordArb(from),
        bootNonce: str(),
        refused: fc.constantFrom('version-mismatch', 'mesh-mismatch', 'duplicate-identity'),
      }),
    ),
  () => fc.record({ t: fc.constant(MessageType.SYN), members: memberDigestArb, store: fc.option(digestArb, { nil: null }) }),
  () =>
    fc.record({
      t: fc.constant(MessageType.ACK),
      records: recordsArb,
      covers: coversArb,
      complete: fc.boolean(),
      members: fc.array(nodeIdArb.chain(memberRecordArb), { maxLength: 2 }),
      memberDigest: memberDigestArb,
      store: fc.option(digestArb, { nil: null }),
    }),
  () => fc.record({ t: fc.constant(MessageType.ACK2), records: recordsArb, covers: coversArb, complete: fc.boolean(), members: fc.array(nodeIdArb.chain(memberRecordArb), { maxLength: 2 }) }),
  () => fc.record({ t: fc.constant(MessageType.PUSH), records: recordsArb, hops: fc.integer({ min: 0, max: 15 }) }),
  () => fc.record({ t: fc.constantFrom(MessageType.PING, MessageType.PING_REQ, MessageType.PING_ACK), probeSeq: count, target: nodeIdArb }),
  () => fc.record({ t: fc.constant(MessageType.SNAPSHOT_REQ), cursor: fc.option(str(), { nil: null }) }),
  () => fc.record({ t: fc.constant(MessageType.SNAPSHOT_CHUNK), records: recordsArb, cursor: fc.option(str(), { nil: null }), start: digestArb }, { requiredKeys: ['t', 'records', 'cursor'] }),
  () => fc.record({ t: fc.constant(MessageType.SNAPSHOT_END), digest: digestArb }),
  () => fc.record({ t: fc.constant(MessageType.CMD), id: str(), target: str(), action: str(), args: jsonArb, timeoutMs: fc.integer({ min: 1, max: 60_000 }) }),
  () =>
    fc.oneof(
      fc.record({ t: fc.constant(MessageType.CMD_RESULT), id: str(), ok: fc.constant(true), result: jsonArb }),
      fc.record({ t: fc.constant(MessageType.CMD_RESULT), id: str(), ok: fc.constant(false), error: fc.record({ code: str(), message: fc.string() }) }),
    ),
  () => fc.record({ t: fc.constant(MessageType.PUBLISH), topic: str(), payload: jsonArb }),
  (from) => fc.record({ t: fc.constant(MessageType.LEAVE), record: memberRecordArb(from) }),
];

/** A valid message of any type, with or without piggybacked gossip. */
export const messageArb: fc.Arbitrary<Message> = nodeIdArb.chain((from) =>
  fc
    .tuple(fc.constantFrom(...BODIES).chain((body) => body(from)), fc.option(fc.array(nodeIdArb.chain(memberRecordArb), { minLength: 1, maxLength: 2 }), { nil: undefined }))
    .map(([body, gossip]) => (gossip === undefined ? { ...body, from } : { ...body, from, gossip }) as unknown as Message),
);
