import { randomBytes, timingSafeEqual } from 'node:crypto';
import type WebSocket from 'ws';
import type { FrameCodec, FrameSealer, RejectReason } from './frame.ts';
import { CHALLENGE_BYTES, connectionId, decodeLinkMessage, encodeData, encodeHello, encodeProof, encodeSelect, LINK_VERSION, type Hello } from './link-messages.ts';

/** Traffic totals a connection adds to (its link's). */
export interface TrafficStats {
  bytesIn: number;
  bytesOut: number;
  framesIn: number;
  framesOut: number;
}

/** What a connection tells its owner. */
export interface ConnectionHooks {
  /** The peer's hello and proof arrived and verified: it holds our key and answered our fresh challenge. */
  authenticated(c: Connection): void;
  /** The arbiter selected this connection to carry the link (only on the non-arbiter end). */
  selected(c: Connection): void;
  /** A data payload arrived on an open connection. */
  data(c: Connection, payload: Uint8Array): void;
  /** A frame was refused by the codec (counted by reason). */
  rejected(c: Connection, reason: RejectReason): void;
  /** The connection closed; `refused` when it never got past its handshake because of the peer. */
  closed(c: Connection, reason: string, refused: boolean): void;
}

/** What a connection needs; `ws` may still be connecting (outbound) or open (inbound). */
export interface ConnectionInit {
  readonly ws: WebSocket;
  readonly direction: 'inbound' | 'outbound';
  readonly codec: FrameCodec;
  readonly nodeId: string;
  readonly boot: string;
  /** Our listen address, read when the hello is sent. */
  readonly selfAddress: () => string;
  /** On a dialed connection, the id of the one it replaces. */
  readonly replaces: string | null;
  readonly handshakeTimeoutMs: number;
  readonly keepaliveMs: number;
  readonly maxBufferedBytes: number;
  readonly hooks: ConnectionHooks;
}

/** Where a connection is in its life. */
export type ConnectionState = 'hello' | 'proof' | 'authenticated' | 'open' | 'closed';

/** How sendData went. */
export type SendOutcome = 'sent' | 'backpressure' | 'closed';

/**
 * One WebSocket between two nodes and its handshake. Each end sends HELLO (node id, listen
 * address, fresh challenge) and, on the peer's HELLO, PROOF (the echoed challenge). Every frame
 * is sealed under a session created for this connection, and every frame received must come from
 * the session the peer's HELLO came from: a recorded connection cannot be replayed (the challenge
 * is fresh) and frames cannot be spliced in from another connection.
 *
 * Invariants:
 * 1. Data is sent and delivered only in state 'open'; anything else before it closes the connection.
 * 2. The first refused or unexpected frame closes the connection; nothing after it is read.
 * 3. `closed` fires exactly once, after which no hook fires.
 */
export class Connection {
  readonly direction: 'inbound' | 'outbound';
  /** Resolves once the socket has closed. */
  readonly done: Promise<void>;
  /** Where this connection's traffic is added (its link's totals), once it has one. */
  sink: TrafficStats | null = null;
  /** The owner's handle on this connection (the link it belongs to). */
  owner: unknown = null;
  #state: ConnectionState = 'hello';
  #peer: Hello | undefined;
  #peerSession = '';
  #id = '';
  #closeReason: string | undefined;
  #refused = false;
  #alive = true;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #keepaliveTimer: NodeJS.Timeout | undefined;
  readonly #init: ConnectionInit;
  readonly #sealer: FrameSealer;
  readonly #challenge = randomBytes(CHALLENGE_BYTES);

  constructor(init: ConnectionInit) {
    this.#init = init;
    this.direction = init.direction;
    this.#sealer = init.codec.sealer();
    if (init.direction === 'outbound') this.#id = connectionId(this.#challenge);
    const ws = init.ws;
    this.done = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data, isBinary) => this.#onMessage(data as Buffer, isBinary));
    ws.on('pong', () => (this.#alive = true));
    ws.on('error', () => undefined); // 'close' follows with the outcome
    ws.once('close', (code) => this.#onClose(code));
    this.#handshakeTimer = setTimeout(() => this.#fail('handshake-timeout', true), init.handshakeTimeoutMs).unref();
    if (ws.readyState === ws.OPEN) this.#sendHello();
    else ws.once('open', () => this.#sendHello());
  }

  /** Where the connection is in its life. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The peer's hello, once received. */
  get peer(): Hello | undefined {
    return this.#peer;
  }

  /** The connection id (the dialer's challenge in hex), known to both ends once hellos crossed. */
  get id(): string {
    return this.#id;
  }

  /** Arbiter end: tells the peer this connection carries the link, and opens it. */
  select(): void {
    if (this.#state !== 'authenticated') return;
    this.#sendFrame(encodeSelect());
    this.#open();
  }

  /** Seals and sends one payload if the connection is open and the socket's buffer has room. */
  sendData(payload: Uint8Array): SendOutcome {
    if (this.#state !== 'open') return 'closed';
    if (this.#init.ws.bufferedAmount > this.#init.maxBufferedBytes) return 'backpressure';
    this.#sendFrame(encodeData(payload));
    return 'sent';
  }

  /** Closes the connection with a WebSocket close code and a reason (counted and logged by the owner). */
  close(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#closeReason ??= reason;
    this.#enterClosed();
    const ws = this.#init.ws;
    if (ws.readyState === ws.CONNECTING) ws.terminate();
    else ws.close(code, reason.slice(0, 120));
  }

  /** Destroys the socket at once (no closing handshake). */
  terminate(reason: string): void {
    this.#closeReason ??= reason;
    this.#enterClosed();
    this.#init.ws.terminate();
  }

  #sendHello(): void {
    if (this.#state === 'closed') return;
    const i = this.#init;
    this.#sendFrame(encodeHello({ version: LINK_VERSION, nodeId: i.nodeId, address: i.selfAddress(), challenge: this.#challenge, boot: i.boot, replaces: i.replaces }));
  }

  #sendFrame(message: Uint8Array): void {
    const frame = this.#sealer.seal(message);
    this.#init.ws.send(frame);
    if (this.sink !== null) {
      this.sink.framesOut++;
      this.sink.bytesOut += frame.length;
    }
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (this.#state === 'closed') return;
    this.#alive = true;
    if (this.sink !== null) {
      this.sink.framesIn++;
      this.sink.bytesIn += data.length;
    }
    if (!isBinary) return this.#fail('text-frame', this.#state !== 'open');
    const opened = this.#init.codec.open(data);
    if (!opened.ok) {
      this.#init.hooks.rejected(this, opened.reason);
      return this.#fail(opened.reason, this.#state !== 'open');
    }
    if (this.#state !== 'hello' && opened.session !== this.#peerSession) return this.#fail('session-mismatch', this.#state !== 'open');
    const m = decodeLinkMessage(opened.payload);
    if (m.kind === 'bad') return this.#fail(m.reason, this.#state !== 'open');
    switch (this.#state) {
      case 'hello':
        if (m.kind !== 'hello') return this.#fail('expected-hello', true);
        return this.#onHello(m.hello, opened.session);
      case 'proof':
        if (m.kind !== 'proof' || !timingSafeEqual(m.echo, this.#challenge)) return this.#fail('bad-proof', true);
        this.#state = 'authenticated';
        return this.#init.hooks.authenticated(this);
      case 'authenticated':
        if (m.kind !== 'select') return this.#fail('expected-select', true);
        this.#open();
        return this.#init.hooks.selected(this);
      case 'open':
        if (m.kind !== 'data') return this.#fail('unexpected-control', false);
        return this.#init.hooks.data(this, m.payload);
    }
  }

  #onHello(hello: Hello, session: string): void {
    if (hello.nodeId === this.#init.nodeId) return this.#fail(hello.boot === this.#init.boot ? 'self' : 'same-node-id', true);
    this.#peer = hello;
    this.#peerSession = session;
    if (this.direction === 'inbound') this.#id = connectionId(hello.challenge);
    this.#state = 'proof';
    this.#sendFrame(encodeProof(hello.challenge));
  }

  #open(): void {
    this.#state = 'open';
    clearTimeout(this.#handshakeTimer);
    this.#keepaliveTimer = setInterval(() => this.#keepalive(), this.#init.keepaliveMs).unref();
  }

  #keepalive(): void {
    if (!this.#alive) return this.terminate('keepalive-timeout');
    this.#alive = false;
    this.#init.ws.ping();
  }

  /** A refusal or protocol error: no closing handshake, the socket is destroyed at once. */
  #fail(reason: string, refused: boolean): void {
    if (this.#state === 'closed') return;
    this.#refused = refused;
    this.terminate(reason);
  }

  #enterClosed(): void {
    this.#state = 'closed';
    clearTimeout(this.#handshakeTimer);
    clearInterval(this.#keepaliveTimer);
  }

  #onClose(code: number): void {
    const wasOpenBefore = this.#state !== 'closed';
    this.#enterClosed();
    const reason = this.#closeReason ?? (wasOpenBefore ? `peer-closed:${code}` : 'closed');
    this.#init.hooks.closed(this, reason, this.#refused);
  }
}
