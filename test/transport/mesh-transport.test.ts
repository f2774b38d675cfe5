import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ErrorCode, isChorusError } from '../../src/core/errors.ts';
import { FrameCodec } from '../../src/transport/frame.ts';
import { encodeHello, encodeProof, LINK_VERSION } from '../../src/transport/link-messages.ts';
import { MESH_SUBPROTOCOL, MeshTransport } from '../../src/transport/mesh-transport.ts';
import { ringOf } from './frames.ts';
import { bytes, nodeIdOf, startNode, waitFor, type NodeOptions, type TestNode } from './helpers.ts';

// Real sockets on 127.0.0.1. Every test registers what it opens in `cleanup`, closed afterwards.
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function node(o: NodeOptions): Promise<TestNode> {
  const n = await startNode(o);
  cleanup.push(() => n.stop());
  return n;
}

const texts = (n: TestNode): string[] => n.received.map((r) => r.text);

describe('mesh transport: two nodes', () => {
  it('exchange messages both ways over one link, each naming the other by its declared listen address', async () => {
    const a = await node({ nodeId: nodeIdOf(1), keyring: ringOf(1) });
    const b = await node({ nodeId: nodeIdOf(2), keyring: ringOf(1) });
    expect(a.transport.send(b.address, bytes('a→b stream'), 'stream')).toBe(true);
    expect(a.transport.send(b.address, bytes('a→b packet'), 'packet')).toBe(true);
    await waitFor('b to hear a', () => b.received.length === 2);
    // B replies to the address A declared (its listen port, not the ephemeral port it dialed from).
    expect(b.received.map((r) => r.from)).toEqual([a.address, a.address]);
    expect(b.transport.send(a.address, bytes('b→a stream'), 'stream')).toBe(true);
    expect(b.transport.send(a.address, bytes('b→a packet'), 'packet')).toBe(true);
    await waitFor('a to hear b', () => a.received.length === 2);
    expect(a.received).toEqual([
      { from: b.address, text: 'b→a stream' },
      { from: b.address, text: 'b→a packet' },
    ]);
    expect(texts(b)).toEqual(['a→b stream', 'a→b packet']);
    // One link each, the same connection: A dialed, B reused it to reply.
    expect(Object.keys(a.transport.links())).toEqual([b.address]);
    expect(Object.keys(b.transport.links())).toEqual([a.address]);
    expect(a.transport.links()[b.address]).toMatchObject({ state: 'open', direction: 'outbound', nodeId: b.nodeId });
    expect(b.transport.links()[a.address]).toMatchObject({ state: 'open', direction: 'inbound', nodeId: a.nodeId });
    expect(a.transport.counters()).toMatchObject({ dials: 1, 'links:opened': 1, 'messages:out': 2, 'messages:in': 2 });
    expect(b.transport.counters().dials).toBeUndefined();
    expect(a.states).toEqual([
      { address: b.address, state: 'connecting' },
      { address: b.address, state: 'open' },
    ]);
  });

  it('dialed by a host name, names the peer by the address it declares and keeps one link', async () => {
    const a = await node({ nodeId: nodeIdOf(1), keyring: ringOf(1) });
    const b = await node({ nodeId: nodeIdOf(2), keyring: ringOf(1) });
    const byName = `localhost:${b.address.split(':')[1]}`;
    a.transport.send(byName, bytes('to a name'), 'stream');
    await waitFor('b to hear a', () => b.received.length === 1);
    b.transport.send(a.address, bytes('reply'), 'stream');
    await waitFor('a to hear b', () => a.received.length === 1);
    expect(a.received).toEqual([{ from: b.address, text: 'reply' }]);
    a.transport.send(byName, bytes('again by name'), 'stream');
    await waitFor('b to hear a again', () => b.received.length === 2);
    expect(Object.keys(a.transport.links())).toEqual([b.address]);
    expect(a.transport.counters().dials).toBe(1);
  });

  it('works insecure between two insecure nodes', async () => {
    const a = await node({ nodeId: nodeIdOf(1), keyring: null });
    const b = await node({ nodeId: nodeIdOf(2), keyring: null });
    a.transport.send(b.address, bytes('plain'), 'stream');
    await waitFor('b to hear a', () => b.received.length === 1);
    b.transport.send(a.address, bytes('plain back'), 'stream');
    await waitFor('a to hear b', () => a.received.length === 1);
    expect(a.received).toEqual([{ from: b.address, text: 'plain back' }]);
  });

  it('keeps one link when both dial at once, and loses nothing', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await node({ nodeId: nodeIdOf(1), keyring: ringOf(1) });
      const b = await node({ nodeId: nodeIdOf(2), keyring: ringOf(1) });
      for (let i = 0; i < 20; i++) {
        a.transport.send(b.address, bytes(`a${i}`), 'stream');
        b.transport.send(a.address, bytes(`b${i}`), 'stream');
      }
      await waitFor('both to hear everything', () => a.received.length === 20 && b.received.length === 20);
      expect(texts(b)).toEqual(Array.from({ length: 20 }, (_, i) => `a${i}`));
      expect(texts(a)).toEqual(Array.from({ length: 20 }, (_, i) => `b${i}`));
      await waitFor('the duplicate to close', () => Object.values(a.transport.links()).every((l) => l.state === 'open') && Object.values(b.transport.links()).every((l) => l.state === 'open'));
      expect(Object.keys(a.transport.links())).toEqual([b.address]);
      expect(Object.keys(b.transport.links())).toEqual([a.address]);
      // Both ends carry the link on the same connection: one dialed it, the other accepted it.
      const directions = [a.transport.links()[b.address]?.direction, b.transport.links()[a.address]?.direction].sort();
      expect(directions).toEqual(['inbound', 'outbound']);
      for (const f of cleanup.splice(0).reverse()) await f();
    }
  });
});

describe('mesh transport: reconnects', () => {
  it('redials after the other side closes the link, and delivers what was sent meanwhile', async () => {
    const a = await node({ nodeId: nodeIdOf(1), keyring: ringOf(1) });
    const b = await node({ nodeId: nodeIdOf(2), keyring: ringOf(1) });
    a.transport.send(b.address, bytes('before'), 'stream');
    await waitFor('b to hear a', () => b.received.length === 1);
    b.transport.disconnect(a.address);
    await waitFor('a to see the link close', () => a.states.some((s) => s.state === 'closed'));
    a.transport.send(b.address, bytes('after'), 'stream');
    await waitFor('b to hear a again', () => b.received.length === 2);
    expect(texts(b)).toEqual(['before', 'after']);
    expect(a.transport.counters()).toMatchObject({ 'links:opened': 2, 'links:closed': 1 });
    expect(a.transport.links()[b.address]?.state).toBe('open');
  });

  it('redials with backoff while the peer is down and resumes when it is back on the same port', async () => {
    const a = await node({ nodeId: nodeIdOf(1), keyring: ringOf(1) });
    const b = await startNode({ nodeId: nodeIdOf(2), keyring: ringOf(1) });
    const port = Number(b.address.split(':')[1]);
    a.transport.send(b.address, bytes('one'), 'stream');
    await waitFor('b to hear a', () => b.received.length === 1);
    await b.stop();
    await waitFor('a to see the link close', () => a.transport.links()[b.address]?.state !== 'open');
    a.transport.send(b.address, bytes('two'), 'stream'); // queued while b is away
    await waitFor('a few failed redials', () => (a.transport.counters()['reconnects'] ?? 0) >= 2);
    const b2 = await node({ nodeId: nodeIdOf(2), keyring: ringOf(1), port });
    await waitFor('the restarted b to hear a', () => b2.received.length === 1);
    expect(b2.received).toEqual([{ from: a.address, text: 'two' }]);
  });
});

describe('mesh transport: peers that must never be admitted', () => {
  const pairs: readonly [string, NodeOptions, NodeOptions, string, string][] = [
    ['wrong key', { nodeId: nodeIdOf(1), keyring: ringOf(1) }, { nodeId: nodeIdOf(2), keyring: ringOf(2) }, 'unknown-key', 'unknown-key'],
    ['wrong mesh', { nodeId: nodeIdOf(1), keyring: ringOf(1), mesh: 'home' }, { nodeId: nodeIdOf(2), keyring: ringOf(1), mesh: 'barn' }, 'wrong-mesh', 'wrong-mesh'],
    ['insecure dialing keyed', { nodeId: nodeIdOf(1), keyring: null }, { nodeId: nodeIdOf(2), keyring: ringOf(1) }, 'plaintext-refused', 'encrypted-refused'],
    ['keyed dialing insecure', { nodeId: nodeIdOf(1), keyring: ringOf(1) }, { nodeId: nodeIdOf(2), keyring: null }, 'encrypted-refused', 'plaintext-refused'],
  ];

  it.each(pairs)('%s: the first frame fails, the connection closes, nothing reaches onMessage', async (_name, ao, bo, bRefuses, aRefuses) => {
    const a = await node(ao);
    const b = await node(bo);
    for (let i = 0; i < 3; i++) a.transport.send(b.address, bytes(`m${i}`), 'stream');
    await waitFor('b to refuse a', () => (b.transport.counters()[`refused:${bRefuses}`] ?? 0) >= 1);
    await waitFor('a to refuse b', () => (a.transport.counters()[`refused:${aRefuses}`] ?? 0) >= 1);
    await waitFor('a to retry', () => (a.transport.counters()['reconnects'] ?? 0) >= 1);
    expect(b.transport.counters()[`rejected:${bRefuses}`]).toBeGreaterThanOrEqual(1);
    expect(a.received).toEqual([]);
    expect(b.received).toEqual([]);
    expect(b.transport.counters()['links:opened']).toBeUndefined();
    expect(a.transport.counters()['links:opened']).toBeUndefined();
    expect(a.states.map((s) => s.state)).not.toContain('open');
  });

  it('refuses a recorded hello replayed on a new connection, and a hello whose proof is wrong', async () => {
    const b = await node({ nodeId: nodeIdOf(2), keyring: ringOf(1), limits: { handshakeTimeoutMs: 300 } });
    const sealer = new FrameCodec({ mesh: 'home', keyring: ringOf(1) }).sealer();
    const hello = sealer.seal(encodeHello({ version: LINK_VERSION, nodeId: nodeIdOf(7), address: '127.0.0.1:1', challenge: new Uint8Array(16), boot: '0123456789abcdef', replaces: null }));
    const first = await rawClient(b.address);
    first.ws.send(hello);
    await waitFor('b to answer the hello', () => first.frames.length >= 2); // b's hello and proof
    first.ws.send(sealer.seal(encodeProof(new Uint8Array(16)))); // not b's challenge
    await first.closed;
    const second = await rawClient(b.address);
    second.ws.send(hello); // the same bytes again
    await second.closed;
    await waitFor('both refusals to be counted', () => b.transport.counters()['refused:replay'] === 1);
    expect(b.transport.counters()).toMatchObject({ 'refused:bad-proof': 1, 'refused:replay': 1 });
    expect(b.received).toEqual([]);
  });

  it('closes a connection that never says hello', async () => {
    const b = await node({ nodeId: nodeIdOf(2), keyring: ringOf(1), limits: { handshakeTimeoutMs: 100 } });
    const silent = await rawClient(b.address);
    await silent.closed;
    await waitFor('the refusal to be counted', () => b.transport.counters()['refused:handshake-timeout'] === 1);
  });

  it('refuses upgrades from browsers (Origin), without the subprotocol, or beyond the pending limit; leaves other paths alone', async () => {
    const b = await node({ nodeId: nodeIdOf(2), keyring: ringOf(1), limits: { maxPendingConnections: 2 } });
    expect(await upgradeStatus(b.address, { origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus(b.address, { protocols: ['other'] })).toBe(400);
    const held = [await rawClient(b.address), await rawClient(b.address)];
    expect(await upgradeStatus(b.address, {})).toBe(503);
    for (const h of held) h.ws.terminate();
    expect(b.transport.counters()).toMatchObject({ 'refused:origin': 1, 'refused:subprotocol': 1, 'refused:busy': 1 });
    // An upgrade on another path is for someone else (the HTTP API's event stream).
    let otherPath = '';
    b.server.on('upgrade', (req, socket: Socket) => {
      if (req.url !== '/mesh') {
        otherPath = req.url ?? '';
        socket.end('HTTP/1.1 418 Teapot\r\n\r\n');
      }
    });
    expect(await upgradeStatus(b.address, { path: '/api/v1/events' })).toBe(418);
    expect(otherPath).toBe('/api/v1/events');
  });
});

describe('mesh transport: sends and queues', () => {
  it('drops at once what cannot be sent, counted by reason', async () => {
    const a = await node({ nodeId: nodeIdOf(1), keyring: ringOf(1) });
    expect(a.transport.send('not an address', bytes('x'), 'packet')).toBe(false);
    expect(a.transport.send('127.0.0.1:0', bytes('x'), 'packet')).toBe(false);
    expect(a.transport.send(a.address, bytes('x'), 'packet')).toBe(false);
    expect(a.transport.send('127.0.0.1:9', new Uint8Array(a.codec.maxPayloadBytes), 'stream')).toBe(false);
    await a.transport.close();
    expect(a.transport.send('127.0.0.1:9', bytes('x'), 'stream')).toBe(false);
    expect(a.transport.counters()).toMatchObject({ 'dropped:bad-address': 2, 'dropped:self': 1, 'dropped:too-large': 1, 'dropped:closed': 1 });
  });

  it('while connecting, keeps the newest packets and resets the link when the stream queue overflows', async () => {
    const tarpit = await blackHole();
    const a = await node({ nodeId: nodeIdOf(1), keyring: ringOf(1), limits: { maxQueuedPackets: 10, maxQueuedStream: 5 } });
    for (let i = 0; i < 300; i++) expect(a.transport.send(tarpit.address, bytes(`p${i}`), 'packet')).toBe(true);
    expect(a.transport.links()[tarpit.address]).toMatchObject({ state: 'connecting', queued: 10 });
    expect(a.transport.counters()['dropped:packet-queue-full']).toBe(290);
    for (let i = 0; i < 5; i++) expect(a.transport.send(tarpit.address, bytes(`s${i}`), 'stream')).toBe(true);
    expect(a.transport.send(tarpit.address, bytes('s5'), 'stream')).toBe(false);
    // The queue is dropped (packets and stream alike) and the dial aborted: a visible break, not a gap.
    expect(a.transport.counters()['dropped:stream-overflow']).toBe(16);
    await waitFor('the dial to be aborted', () => a.transport.links()[tarpit.address]?.state === 'closed');
    expect(a.transport.links()[tarpit.address]?.queued).toBe(0);
  });

  it('validates its options', () => {
    const codec = new FrameCodec({ mesh: 'home', keyring: null });
    const base = { mesh: 'home', nodeId: nodeIdOf(1), selfAddress: '127.0.0.1:0', codec, onMessage: () => undefined };
    const bad = [{ ...base, nodeId: 'abc' }, { ...base, mesh: 'barn' }, { ...base, selfAddress: 'nowhere' }, { ...base, backoff: { minMs: 0, maxMs: 10 } }];
    for (const o of bad) {
      let caught: unknown;
      try {
        new MeshTransport(o);
      } catch (e) {
        caught = e;
      }
      expect(isChorusError(caught)).toBe(true);
    }
    const t = new MeshTransport(base);
    let caught: unknown;
    try {
      t.setSelfAddress('::1:80');
    } catch (e) {
      caught = e;
    }
    expect(isChorusError(caught, ErrorCode.InvalidAddress)).toBe(true);
    t.setSelfAddress('[::1]:7000');
    return t.close();
  });
});

/** A raw WebSocket client on a node's /mesh, recording what it receives. */
async function rawClient(address: string): Promise<{ ws: WebSocket; frames: Buffer[]; closed: Promise<void> }> {
  const ws = new WebSocket(`ws://${address}/mesh`, [MESH_SUBPROTOCOL]);
  cleanup.push(async () => ws.terminate());
  const frames: Buffer[] = [];
  ws.on('message', (d) => frames.push(d as Buffer));
  ws.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames, closed };
}

/** The HTTP status a WebSocket upgrade gets. */
function upgradeStatus(address: string, o: { origin?: string; protocols?: string[]; path?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${address}${o.path ?? '/mesh'}`, o.protocols ?? [MESH_SUBPROTOCOL], o.origin === undefined ? {} : { origin: o.origin });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('error', (e) => reject(e));
  });
}

/** A TCP server that accepts and never answers: dials to it stay 'connecting'. */
async function blackHole(): Promise<{ address: string }> {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanup.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}
