import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { stopChild, trackChild } from './cleanup.ts';
import type { YjsCommand, YjsReply } from './yjs-ws-protocol.ts';

// The Yjs peer over WebSocket: this process holds Y.Doc A and serves ws://127.0.0.1:PORT; each
// peer is a child process holding a Y.Doc B that connects to it (bench/yjs-ws-child.ts). Child
// processes run through the same tsx loader as `chorus start`, so process start costs the same.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILD = join(ROOT, 'bench/yjs-ws-child.ts');

/** One child process holding a Y.Doc B, and its connection. */
export class YjsPeer {
  /** Payload bytes of the messages sent to / received from this peer (WebSocket framing excluded). */
  bytesOut = 0;
  bytesIn = 0;
  private seenListener: ((value: string) => void) | undefined;
  private binaryListener: ((data: Uint8Array) => void) | undefined;
  private readonly waiters: { op: YjsReply['op']; resolve: (r: YjsReply) => void }[] = [];

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly ws: WebSocket,
    /** performance.now() just before the spawn, and when its hello arrived. */
    readonly spawnedAt: number,
    readonly helloAt: number,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
  }

  private receive(data: Buffer, isBinary: boolean): void {
    this.bytesIn += data.byteLength;
    if (isBinary) return this.binaryListener?.(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    const text = data.toString('utf8');
    if (text.startsWith('seen ')) return this.seenListener?.(text.slice(5));
    const r = JSON.parse(text) as YjsReply;
    const i = this.waiters.findIndex((w) => w.op === r.op);
    if (i >= 0) this.waiters.splice(i, 1)[0]?.resolve(r);
  }

  /** Sends a Yjs update. */
  sendUpdate(update: Uint8Array): void {
    this.bytesOut += update.byteLength;
    this.ws.send(update, { binary: true });
  }

  /** Sends a command. */
  command(c: YjsCommand): void {
    const text = JSON.stringify(c);
    this.bytesOut += Buffer.byteLength(text);
    this.ws.send(text);
  }

  /** Resolves with the next reply of kind `op`. */
  next<K extends YjsReply['op']>(op: K): Promise<Extract<YjsReply, { op: K }>> {
    return new Promise((resolve) => this.waiters.push({ op, resolve: resolve as (r: YjsReply) => void }));
  }

  /** Sets the one listener for `seen <value>` replies. */
  onSeen(listener: (value: string) => void): void {
    this.seenListener = listener;
  }

  /** Sets the one listener for binary replies (state vectors). */
  onBinary(listener: (data: Uint8Array) => void): void {
    this.binaryListener = listener;
  }

  /** Starts the peer's doc over, empty. */
  async reset(): Promise<void> {
    const done = this.next('reset');
    this.command({ op: 'reset' });
    await done;
  }

  /** Closes the connection; the child exits on close (killed if it does not). */
  async stop(): Promise<void> {
    this.ws.close(1000);
    await stopChild(this.child, 'SIGTERM', 5_000).catch(() => undefined);
  }
}

/** The bench's end: a WebSocket server that Yjs peers connect to. */
export class YjsHub {
  private readonly pending = new Map<string, (p: { ws: WebSocket; helloAt: number }) => void>();

  private constructor(
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {
    wss.on('connection', (ws) => {
      ws.once('message', (data: Buffer) => {
        const hello = JSON.parse(data.toString('utf8')) as YjsReply;
        const at = performance.now();
        if (hello.op !== 'hello') return ws.close(1002, 'expected hello');
        const waiting = this.pending.get(hello.name);
        this.pending.delete(hello.name);
        if (waiting === undefined) ws.close(1002, 'unknown peer');
        else waiting({ ws, helloAt: at });
      });
    });
  }

  /** Listens on a free loopback port. */
  static start(): Promise<YjsHub> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
      wss.once('error', reject);
      wss.once('listening', () => {
        const addr = wss.address();
        const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
        resolve(new YjsHub(wss, `ws://127.0.0.1:${port}`));
      });
    });
  }

  /**
   * Spawns a child holding an empty Y.Doc B and resolves once it connected and said hello.
   * `onConnect` runs as soon as the connection is known, before anything else is read from it.
   */
  async spawnPeer(name: string, onConnect?: (peer: YjsPeer) => void): Promise<YjsPeer> {
    const connected = new Promise<{ ws: WebSocket; helloAt: number }>((resolve) => this.pending.set(name, resolve));
    const spawnedAt = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, this.url, name], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    trackChild(child);
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`yjs child ${name} exited with ${code} before connecting`))));
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`yjs child ${name} did not connect within 30 s`)), 30_000).unref());
    try {
      const { ws, helloAt } = await Promise.race([connected, exited, timeout]);
      const peer = new YjsPeer(name, child, ws, spawnedAt, helloAt);
      onConnect?.(peer);
      return peer;
    } catch (e) {
      this.pending.delete(name);
      child.kill('SIGKILL');
      throw e;
    }
  }

  /** Closes the server (peers should be stopped first). */
  close(): Promise<void> {
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}
