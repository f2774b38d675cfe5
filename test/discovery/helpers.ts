import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { NodeId } from '../../src/core/ids.ts';
import type { BeaconCodec } from '../../src/transport/beacon.ts';
import { Discovery, type DiscoveredPeer, type DiscoveryOptions } from '../../src/transport/discovery.ts';

/** Things a test started, stopped in reverse order by `stopAll`. */
export class Cleanup {
  readonly #stops: (() => Promise<void>)[] = [];
  add(stop: () => Promise<void>): void {
    this.#stops.push(stop);
  }
  async stopAll(): Promise<void> {
    while (this.#stops.length > 0) await this.#stops.pop()?.();
  }
}

let idCounter = 0;
/** A distinct, well-formed node id. */
export function testNodeId(): NodeId {
  idCounter++;
  return (process.pid.toString(16).padStart(8, '0') + idCounter.toString(16).padStart(24, '0')) as NodeId;
}

/** A UDP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A running Discovery on loopback and the peers it reported. */
export interface TestNode {
  readonly d: Discovery;
  readonly nodeId: NodeId;
  readonly listenPort: number;
  readonly port: number;
  readonly peers: DiscoveredPeer[];
}

/** Starts a loopback Discovery (no broadcast, no multicast) and registers its stop. */
export async function startNode(cleanup: Cleanup, o: { mesh: string; codec: BeaconCodec; port?: number; targets?: string[] } & Partial<DiscoveryOptions>): Promise<TestNode> {
  const peers: DiscoveredPeer[] = [];
  const nodeId = o.nodeId ?? testNodeId();
  const listenPort = o.listenPort ?? 20000 + (idCounter % 10000);
  const d = new Discovery({
    broadcast: false,
    multicast: false,
    bindAddress: '127.0.0.1',
    port: 0,
    ...o,
    nodeId,
    listenPort,
    onPeer: (p) => peers.push(p),
  });
  await d.start();
  cleanup.add(() => d.stop());
  const port = d.address()?.port ?? 0;
  return { d, nodeId, listenPort, port, peers };
}

/** A raw UDP socket that keeps what it receives. */
export interface RawSocket {
  readonly socket: Socket;
  readonly port: number;
  readonly received: { msg: Buffer; rinfo: RemoteInfo }[];
  send(bytes: Uint8Array, port: number, host?: string): Promise<void>;
}

/** Binds a raw socket on `host` (default 127.0.0.1) and registers its close. */
export async function rawSocket(cleanup: Cleanup, host = '127.0.0.1'): Promise<RawSocket> {
  const socket = createSocket('udp4');
  const received: { msg: Buffer; rinfo: RemoteInfo }[] = [];
  socket.on('message', (msg, rinfo) => received.push({ msg, rinfo }));
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  cleanup.add(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return {
    socket,
    port: socket.address().port,
    received,
    send: (bytes, port, to = '127.0.0.1') =>
      new Promise<void>((resolve, reject) => socket.send(bytes, port, to, (err) => (err === null ? resolve() : reject(err)))),
  };
}

/** Resolves when `cond()` holds, polling every 5 ms; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Sum of a counter record. */
export function total(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}
