import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '../../src/core/codec.ts';
import { ErrorCode, isChorusError } from '../../src/core/errors.ts';
import type { NodeId } from '../../src/core/ids.ts';
import { encodeBeacon, encodePaddedQuery, MAX_BEACON_BYTES, parseBeacon } from '../../src/transport/beacon.ts';
import { Discovery, type DiscoveryOptions } from '../../src/transport/discovery.ts';
import { meshCodec, newKey, testCodec } from './fixtures/test-codec.ts';
import { Cleanup, freePort, rawSocket, startNode, testNodeId, total, waitFor } from './helpers.ts';

// Real UDP sockets on loopback. Broadcast on lo is unreliable, so beacons go to explicit
// unicast targets; the netns test covers broadcast and multicast between real interfaces.

const MESH = 'home';
const cleanup = new Cleanup();
afterEach(() => cleanup.stopAll());

describe('Discovery on loopback', () => {
  it.each([
    ['FrameCodec', meshCodec],
    ['any { seal, open }', testCodec],
  ])('two nodes targeting each other find each other, with source IP and declared port (%s)', async (_name, codecOf) => {
    const key = newKey();
    const [pa, pb] = [await freePort(), await freePort()];
    const a = await startNode(cleanup, { mesh: MESH, codec: codecOf(MESH, key), port: pa, targets: [`127.0.0.1:${pb}`], generation: 7 });
    const b = await startNode(cleanup, { mesh: MESH, codec: codecOf(MESH, key), port: pb, targets: [`127.0.0.1:${pa}`] });
    await waitFor('a hears b', () => a.peers.some((p) => p.nodeId === b.nodeId));
    await waitFor('b hears a', () => b.peers.some((p) => p.nodeId === a.nodeId));
    expect(a.peers.find((p) => p.nodeId === b.nodeId)).toEqual({ nodeId: b.nodeId, address: `127.0.0.1:${b.listenPort}` });
    expect(b.peers.find((p) => p.nodeId === a.nodeId)).toEqual({ nodeId: a.nodeId, address: `127.0.0.1:${a.listenPort}`, generation: 7 });
    expect(a.peers.every((p) => p.nodeId === b.nodeId)).toBe(true);
    expect(a.d.counters().rejected).toEqual({});
  });

  it('a node that knows no one learns of a querier and answers it', async () => {
    const key = newKey();
    const a = await startNode(cleanup, { mesh: MESH, codec: meshCodec(MESH, key) });
    const b = await startNode(cleanup, { mesh: MESH, codec: meshCodec(MESH, key), targets: [`127.0.0.1:${a.port}`] });
    await waitFor('b hears a', () => b.peers.some((p) => p.nodeId === a.nodeId));
    expect(a.peers[0]).toEqual({ nodeId: b.nodeId, address: `127.0.0.1:${b.listenPort}` });
    expect(a.d.counters().replies).toBeGreaterThanOrEqual(1);
  });

  it('another mesh, another key and garbage are refused, counted and never reported', async () => {
    const key = newKey();
    const generous = { perSourcePerS: 10_000, globalPerS: 10_000 };
    const v = await startNode(cleanup, { mesh: MESH, codec: meshCodec(MESH, key), rateLimit: generous });
    const otherMesh = await startNode(cleanup, { mesh: 'attic', codec: meshCodec('attic', key), targets: [`127.0.0.1:${v.port}`] });
    const otherKey = await startNode(cleanup, { mesh: MESH, codec: meshCodec(MESH, newKey()), targets: [`127.0.0.1:${v.port}`] });

    const codec = meshCodec(MESH, key);
    const fields = { mesh: MESH, nodeId: testNodeId(), port: 9000 };
    const garbage: [string, Uint8Array][] = [
      ['empty datagram', new Uint8Array(0)],
      ['random bytes', Uint8Array.from({ length: 300 }, (_, i) => (i * 7919) % 256)],
      ['oversize', new Uint8Array(MAX_BEACON_BYTES + 1)],
      ['sealed, truncated MessagePack', codec.seal(Uint8Array.of(0xd9, 0x10))],
      ['sealed, an array', codec.seal(encode([1, 2, 3]))],
      ['sealed, unknown kind', codec.seal(encode({ ...fields, kind: 'hello' }))],
      ['sealed, bad node id', codec.seal(encode({ ...fields, kind: 'query', nodeId: 'NOT-HEX' }))],
      ['sealed, port out of range', codec.seal(encode({ ...fields, kind: 'announce', port: 70000 }))],
      ['sealed, negative generation', codec.seal(encode({ ...fields, kind: 'announce', generation: -1 }))],
      ['sealed, another mesh in the payload', codec.seal(encodeBeacon({ ...fields, kind: 'announce', mesh: 'attic' }))],
      ['truncated frame', codec.seal(encodeBeacon({ ...fields, kind: 'announce' })).subarray(0, 20)],
    ];
    const raw = await rawSocket(cleanup);
    for (const [, bytes] of garbage) await raw.send(bytes, v.port);

    await waitFor('garbage refused', () => v.d.counters().received >= garbage.length);
    const refused = (reason: string): number => v.d.counters().rejected[reason] ?? 0;
    await waitFor('other mesh and key refused', () => refused('wrong-mesh') >= 1 && refused('unknown-key') >= 1);
    const c = v.d.counters();
    expect(c.accepted).toBe(0);
    expect(total(c.rejected)).toBe(c.received);
    expect(c.rejected).toMatchObject({ oversize: 1, decode: 1, invalid: 5, mesh: 1, 'too-short': 1, 'bad-magic': 1, truncated: 1 });
    expect(otherMesh.d.counters().rejected['wrong-mesh'] ?? 0).toBe(0); // v never answered it
    expect(otherKey.d.counters().accepted).toBe(0);
    expect(v.peers).toEqual([]);
    expect(raw.received).toEqual([]);
    // Nobody answered the impostors, so they learned nothing either.
    expect(otherMesh.peers).toEqual([]);
    expect(otherKey.peers).toEqual([]);
  });

  it('reports the source IP whatever the payload says, and a beacon replayed from elsewhere is refused', async () => {
    const key = newKey();
    const sender = meshCodec(MESH, key);
    const v = await startNode(cleanup, { mesh: MESH, codec: meshCodec(MESH, key) });
    const honest = await rawSocket(cleanup, '127.0.0.1');
    const attacker = await rawSocket(cleanup, '127.0.0.3');
    const nodeId = testNodeId();
    const frame = sender.seal(encode({ kind: 'announce', mesh: MESH, nodeId, port: 9000, address: '6.6.6.6', host: '6.6.6.6:9000' }));
    await honest.send(frame, v.port);
    await attacker.send(frame, v.port);
    await waitFor('both handled', () => v.d.counters().received === 2);
    expect(v.peers).toEqual([{ nodeId, address: '127.0.0.1:9000' }]);
    expect(v.d.counters().rejected).toEqual({ replay: 1 });
  });

  it('answers a padded query with a reply no larger than it, and a small query not at all', async () => {
    const key = newKey();
    const codec = meshCodec(MESH, key);
    const v = await startNode(cleanup, { mesh: MESH, codec, generation: 123_456_789 });
    const raw = await rawSocket(cleanup);
    const fields = { mesh: MESH, nodeId: testNodeId(), port: 9000 };

    const tiny = codec.seal(encodeBeacon({ ...fields, kind: 'query' }));
    await raw.send(tiny, v.port);
    const padded = codec.seal(encodePaddedQuery(fields));
    await raw.send(padded, v.port);
    await waitFor('a reply', () => raw.received.length >= 1);
    // Loopback keeps order: had the tiny query been answered, that reply would have come first.
    expect(raw.received).toHaveLength(1);
    const reply = raw.received[0]?.msg ?? Buffer.alloc(0);
    expect(reply.length).toBeLessThanOrEqual(padded.length);
    expect(tiny.length).toBeLessThan(reply.length);
    const opened = codec.open(reply);
    expect(opened.ok && parseBeacon(opened.payload, MESH)).toEqual({ ok: true, beacon: { kind: 'announce', mesh: MESH, nodeId: v.nodeId, port: v.listenPort, generation: 123_456_789 } });
    expect(v.d.counters()).toMatchObject({ accepted: 2, replies: 1, repliesTooLarge: 1 });
    expect(v.peers.map((p) => p.address)).toEqual([`127.0.0.1:9000`, `127.0.0.1:9000`]);
  });

  it('never answers with more bytes than the query carried, at every size around the reply', async () => {
    const key = newKey();
    const codec = meshCodec(MESH, key);
    const v = await startNode(cleanup, { mesh: MESH, codec, rateLimit: { perSourcePerS: 1000, globalPerS: 1000 } });
    const raw = await rawSocket(cleanup);
    const nodeId = testNodeId();
    const queries: Uint8Array[] = [];
    for (let padLength = 0; padLength <= 120; padLength++) {
      queries.push(codec.seal(encodeBeacon({ kind: 'query', mesh: MESH, nodeId, port: 9000, pad: new Uint8Array(padLength) })));
    }
    for (const q of queries) await raw.send(q, v.port);
    await waitFor('every query handled', () => v.d.counters().accepted === queries.length);
    await waitFor('every reply arrived', () => raw.received.length === v.d.counters().replies);
    const replySize = raw.received[0]?.msg.length ?? 0;
    expect(raw.received.every((r) => r.msg.length === replySize)).toBe(true);
    const answerable = queries.filter((q) => q.length >= replySize).length;
    expect(answerable).toBeGreaterThan(0);
    expect(v.d.counters()).toMatchObject({ replies: answerable, repliesTooLarge: queries.length - answerable });
  });

  it('drops a flood from one source: replies stay within the bucket, the rest is counted', async () => {
    const key = newKey();
    const codec = meshCodec(MESH, key);
    const v = await startNode(cleanup, { mesh: MESH, codec, rateLimit: { perSourcePerS: 5, globalPerS: 100 } });
    const flood = await rawSocket(cleanup);
    const fields = { mesh: MESH, nodeId: testNodeId(), port: 9000 };
    const queries = Array.from({ length: 1000 }, () => codec.seal(encodePaddedQuery(fields)));

    const t0 = performance.now();
    // Sent as fast as the receiver drains them: in chunks of 16 with one event-loop turn in
    // between, so the receive buffer, not the limiter, does not decide what gets through.
    for (let i = 0; i < queries.length; i += 16) {
      await Promise.all(queries.slice(i, i + 16).map((q) => flood.send(q, v.port)));
      await new Promise((r) => setImmediate(r));
    }
    // A sentinel from another loopback address (its own bucket) is answered after everything
    // the flood got through, so its reply marks the end of the flood's processing.
    const sentinel = await rawSocket(cleanup, '127.0.0.2');
    const probe = codec.seal(encodePaddedQuery({ ...fields, nodeId: testNodeId() }));
    for (let attempt = 0; attempt < 5 && sentinel.received.length === 0; attempt++) {
      await sentinel.send(probe, v.port);
      await waitFor('the sentinel reply', () => sentinel.received.length > 0, 200).catch(() => undefined);
    }
    expect(sentinel.received.length).toBeGreaterThan(0);
    await waitFor('flood replies delivered', () => flood.received.length + sentinel.received.length === v.d.counters().replies);
    const elapsedS = (performance.now() - t0) / 1000;

    const c = v.d.counters();
    expect(c.received).toBeGreaterThan(900);
    const allowed = Math.floor(5 + 5 * elapsedS);
    expect(flood.received.length).toBeGreaterThanOrEqual(5);
    expect(flood.received.length).toBeLessThanOrEqual(allowed);
    expect(c.accepted).toBe(flood.received.length + sentinel.received.length);
    expect(c.rateLimited + c.accepted).toBe(c.received);
    expect(c.rateLimited).toBeGreaterThanOrEqual(c.received - allowed - 5);
    expect(c.rateLimitedGlobal).toBe(0);
    expect(total(c.rejected)).toBe(0);
    expect(flood.received.every((r) => r.msg.length <= (queries[0]?.length ?? 0))).toBe(true);
  });

  it('the global bucket bounds many sources together', async () => {
    const key = newKey();
    const codec = meshCodec(MESH, key);
    const v = await startNode(cleanup, { mesh: MESH, codec, rateLimit: { perSourcePerS: 5, globalPerS: 20 } });
    const t0 = performance.now();
    const sources = await Promise.all(Array.from({ length: 10 }, (_, i) => rawSocket(cleanup, `127.0.0.${10 + i}`)));
    for (const s of sources) for (let k = 0; k < 5; k++) await s.send(codec.seal(encodePaddedQuery({ mesh: MESH, nodeId: testNodeId(), port: 9000 })), v.port);
    await waitFor('all 50 counted', () => v.d.counters().received === 50);
    const elapsedS = (performance.now() - t0) / 1000;
    const c = v.d.counters();
    expect(c.accepted).toBeLessThanOrEqual(Math.floor(20 + 20 * elapsedS));
    expect(c.rateLimitedGlobal).toBeGreaterThan(0);
    expect(c.rateLimited).toBe(50 - c.accepted);
  });

  it('ignores its own beacons', async () => {
    const key = newKey();
    const port = await freePort();
    const a = await startNode(cleanup, { mesh: MESH, codec: meshCodec(MESH, key), port, targets: [`127.0.0.1:${port}`] });
    await waitFor('own query heard', () => a.d.counters().self >= 1);
    a.d.announce();
    await waitFor('own announcement heard', () => a.d.counters().self >= 2);
    expect(a.peers).toEqual([]);
    expect(a.d.counters()).toMatchObject({ accepted: 0, replies: 0, repliesTooLarge: 0 });
  });
});

describe('Discovery lifecycle and configuration', () => {
  it('stops cleanly, ignores announce() when stopped, and starts again', async () => {
    const key = newKey();
    const a = await startNode(cleanup, { mesh: MESH, codec: meshCodec(MESH, key) });
    const d: Discovery = a.d;
    await d.stop();
    expect(d.address()).toBeUndefined();
    d.announce();
    d.query();
    await d.stop();
    await d.start();
    expect(d.address()?.port).toBeGreaterThan(0);
    await d.stop();
  });

  it('a bind failure is a CHORUS_DISCOVERY_BIND error', async () => {
    const d = new Discovery({ mesh: MESH, nodeId: testNodeId(), listenPort: 1, codec: meshCodec(MESH, newKey()), bindAddress: '192.0.2.1', onPeer: () => undefined });
    const err = await d.start().catch((e: unknown) => e);
    expect(isChorusError(err, ErrorCode.DiscoveryBind)).toBe(true);
    expect(d.address()).toBeUndefined();
  });

  const base: DiscoveryOptions = { mesh: MESH, nodeId: '0'.repeat(32) as NodeId, listenPort: 8080, codec: meshCodec(MESH, new Uint8Array(32)), onPeer: () => undefined };
  it.each<[string, Partial<DiscoveryOptions>]>([
    ['empty mesh', { mesh: '' }],
    ['bad node id', { nodeId: 'xyz' as NodeId }],
    ['listen port 0', { listenPort: 0 }],
    ['port out of range', { port: 70000 }],
    ['unicast multicast group', { multicastGroup: '10.0.0.1' }],
    ['bind address not IPv4', { bindAddress: 'example.com' }],
    ['interval too short', { intervalMs: 10 }],
    ['negative fast start', { fastStartMs: [-1] }],
    ['zero rate', { rateLimit: { perSourcePerS: 0, globalPerS: 100 } }],
    ['fractional generation', { generation: 1.5 }],
    ['target with a host name', { targets: ['example.com:7947'] }],
    ['target with a bad port', { targets: ['10.0.0.1:0'] }],
    ['codec without open', { codec: { seal: (p: Uint8Array) => p } as unknown as DiscoveryOptions['codec'] }],
  ])('refuses %s with CHORUS_INVALID_CONFIG', (_name, patch) => {
    let err: unknown;
    try {
      new Discovery({ ...base, ...patch });
    } catch (e) {
      err = e;
    }
    expect(isChorusError(err, ErrorCode.InvalidConfig)).toBe(true);
  });
});
