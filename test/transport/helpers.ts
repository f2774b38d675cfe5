import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FrameCodec } from '../../src/transport/frame.ts';
import type { Keyring } from '../../src/transport/keyring.ts';
import { MeshTransport, type LinkLimits } from '../../src/transport/mesh-transport.ts';
import type { LinkState } from '../../src/transport/transport.ts';

/** A received message as the test sees it. */
export interface Received {
  readonly from: string;
  readonly text: string;
}

/** One node on a real socket: an HTTP server on 127.0.0.1, its codec and its MeshTransport. */
export interface TestNode {
  readonly nodeId: string;
  readonly address: string;
  readonly server: Server;
  readonly codec: FrameCodec;
  readonly transport: MeshTransport;
  readonly received: Received[];
  readonly states: { address: string; state: LinkState }[];
  /** Closes the transport, then the server. */
  stop(): Promise<void>;
}

/** Options of a test node. */
export interface NodeOptions {
  readonly nodeId: string;
  readonly keyring: Keyring | null;
  readonly mesh?: string;
  /** Listen on this port (default 0: any free one). */
  readonly port?: number;
  readonly limits?: Partial<LinkLimits>;
}

/** Fast reconnects so tests do not wait for production backoff. */
const TEST_BACKOFF = { minMs: 20, maxMs: 200 };

/** Starts a node listening on 127.0.0.1. */
export async function startNode(o: NodeOptions): Promise<TestNode> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const mesh = o.mesh ?? 'home';
  const codec = new FrameCodec({ mesh, keyring: o.keyring });
  const received: Received[] = [];
  const states: { address: string; state: LinkState }[] = [];
  const transport = new MeshTransport({
    mesh,
    nodeId: o.nodeId,
    selfAddress: address,
    codec,
    maxFrameBytes: codec.maxFrameBytes,
    onMessage: (from, payload) => received.push({ from, text: Buffer.from(payload).toString('utf8') }),
    onLinkState: (addr, state) => states.push({ address: addr, state }),
    backoff: TEST_BACKOFF,
    ...(o.limits === undefined ? {} : { limits: o.limits }),
  });
  transport.attach(server);
  return {
    nodeId: o.nodeId,
    address,
    server,
    codec,
    transport,
    received,
    states,
    async stop() {
      await transport.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls `condition` until it holds; fails with `what` after `timeoutMs`. Real sockets need real waiting. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** UTF-8 bytes of a string. */
export const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');

/** A fixed node id: the digit repeated (lower digits are lower ids, and arbitrate). */
export const nodeIdOf = (digit: number): string => String(digit).repeat(32);
