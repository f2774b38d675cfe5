import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { checkAddress, isDialable } from './address.ts';
import { arbitrate, isArbiter } from './arbiter.ts';
import { backoffDelayMs, type BackoffOptions } from './backoff.ts';
import { Connection, type ConnectionHooks } from './connection.ts';
import type { RejectReason } from './frame.ts';
import { Link } from './link.ts';
import { MESH_PATH, MESH_SUBPROTOCOL, resolveMeshOptions, upgradeRefusal, type LinkLimits, type MeshTransportOptions } from './mesh-options.ts';
import type { Channel, LinkInfo, LinkState, Transport, TransportLogger } from './transport.ts';

export { DEFAULT_LINK_LIMITS, MESH_PATH, MESH_SUBPROTOCOL, type LinkLimits, type MeshTransportOptions } from './mesh-options.ts';

/**
 * WebSocket mesh links on the node's own HTTP port (`/mesh`), one link per peer address, carrying
 * both channels. See docs/decisions/0003-transport.md.
 *
 * Invariants:
 * 1. A link sends only through its one open connection; until it has one, messages queue (bounded).
 * 2. Payloads reach onMessage only from open connections, that is after the peer proved it holds a
 *    mesh key and answered our fresh challenge, and only with the peer's declared listen address.
 * 3. Of two nodes the lower id decides which connection carries their link (arbiter.ts).
 * 4. A closed link with a wanted peer (recently sent to, or messages queued) has exactly one
 *    redial pending; one nobody wants is forgotten. After close(), no timer and no socket remain.
 */
export class MeshTransport implements Transport {
  readonly #o: MeshTransportOptions;
  readonly #limits: LinkLimits;
  readonly #backoff: BackoffOptions;
  readonly #log: TransportLogger;
  readonly #random: () => number;
  readonly #boot = randomBytes(8).toString('hex');
  readonly #maxFrameBytes: number;
  readonly #maxPayloadBytes: number;
  readonly #links = new Map<string, Link>();
  /** Dialed address → the listen address its peer declared. */
  readonly #aliases = new Map<string, string>();
  readonly #conns = new Set<Connection>();
  readonly #pending = new Set<Connection>();
  readonly #counts = new Map<string, number>();
  readonly #servers: Server[] = [];
  readonly #wss: WebSocketServer;
  readonly #hooks: ConnectionHooks;
  #self: string;
  #upgrading = 0;
  #closing: Promise<void> | undefined;

  constructor(options: MeshTransportOptions) {
    const r = resolveMeshOptions(options);
    this.#o = options;
    this.#self = r.selfAddress;
    this.#limits = r.limits;
    this.#backoff = r.backoff;
    this.#log = r.logger;
    this.#random = r.random;
    this.#maxFrameBytes = r.maxFrameBytes;
    this.#maxPayloadBytes = r.maxPayloadBytes;
    this.#wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: this.#maxFrameBytes });
    this.#hooks = {
      authenticated: (c) => this.#onAuthenticated(c),
      selected: (c) => this.#adopt(c.owner as Link, c),
      data: (c, payload) => this.#onData(c, payload),
      rejected: (_c, reason) => this.#inc(`rejected:${reason satisfies RejectReason}`),
      closed: (c, reason, refused) => this.#onClosed(c, reason, refused),
    };
  }

  /** Serves mesh links on `server`'s `/mesh` upgrades; other upgrade paths are left to other listeners. */
  attach(server: Server): void {
    server.on('upgrade', this.#onUpgrade);
    this.#servers.push(server);
  }

  /** Changes the address declared in new hellos (existing links keep theirs until they reconnect). */
  setSelfAddress(address: string): void {
    this.#self = checkAddress(address, 'selfAddress');
  }

  /**
   * Sends a payload to the peer listening at `to`, opening a link if there is none. Returns false
   * when the payload was dropped at once (counted under `dropped:<reason>`); true when it was sent
   * or queued for the link.
   */
  send(to: string, payload: Uint8Array, channel: Channel): boolean {
    if (this.#closing !== undefined) return this.#drop('closed');
    const address = this.#aliases.get(to) ?? to;
    if (!isDialable(address)) return this.#drop('bad-address');
    if (address === this.#self) return this.#drop('self');
    if (payload.length > this.#maxPayloadBytes) {
      this.#log.warn('payload too large for one frame: dropped', { to: address, bytes: payload.length });
      return this.#drop('too-large');
    }
    const link = this.#links.get(address) ?? this.#newLink(address, address);
    link.lastSendAt = Date.now();
    if (link.conn !== null) {
      const outcome = link.conn.sendData(payload);
      if (outcome === 'sent') {
        this.#inc('messages:out');
        return true;
      }
      if (outcome === 'backpressure') {
        if (channel === 'packet') return this.#drop('backpressure');
        this.#overflow(link, 'stream-backpressure');
        return this.#drop('stream-overflow');
      }
    }
    const pushed = link.queue.push(payload, channel);
    if (!pushed.queued) {
      if (pushed.reason === 'stream-overflow') this.#overflow(link, 'stream-overflow');
      return this.#drop(pushed.reason);
    }
    if (pushed.droppedPackets > 0) this.#inc('dropped:packet-queue-full', pushed.droppedPackets);
    if (link.dialing === null && link.timer === null) this.#dial(link);
    return true;
  }

  /** Closes the link to `address` (if any) and forgets it: no redial. */
  disconnect(address: string): void {
    const link = this.#links.get(this.#aliases.get(address) ?? address);
    if (link === undefined) return;
    link.cancelTimer();
    link.queue.clear();
    link.lastSendAt = 0;
    link.conn?.close(1000, 'disconnect');
    link.dialing?.close(1000, 'disconnect');
  }

  /** Per peer address: state, traffic and queue. */
  links(): Record<string, LinkInfo> {
    const out: Record<string, LinkInfo> = {};
    for (const [address, link] of [...this.#links].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out[address] = link.info();
    return out;
  }

  /** Named counts, sorted by name: frames and messages, `rejected:<reason>`, `refused:<reason>`, `dropped:<reason>`, links. */
  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of [...this.#counts.keys()].sort()) out[name] = this.#counts.get(name) as number;
    return out;
  }

  /** Closes every connection (closing handshakes, destroyed after closeGraceMs) and stops every timer. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    for (const server of this.#servers) server.off('upgrade', this.#onUpgrade);
    for (const link of this.#links.values()) link.cancelTimer();
    const conns = [...this.#conns];
    for (const c of conns) c.close(1001, 'shutdown');
    let grace: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => (grace = setTimeout(resolve, this.#limits.closeGraceMs)));
    await Promise.race([Promise.all(conns.map((c) => c.done)), expired]);
    clearTimeout(grace);
    for (const c of this.#conns) c.terminate('shutdown');
    // A destroyed socket closes at once; the bound is only against a socket that never reports it.
    const settled = new Promise<void>((resolve) => (grace = setTimeout(resolve, this.#limits.closeGraceMs)));
    await Promise.race([Promise.all(conns.map((c) => c.done)), settled]);
    clearTimeout(grace);
    for (const link of this.#links.values()) {
      link.cancelTimer();
      this.#setState(link, 'closed');
    }
    this.#wss.close();
  }

  // ---- inbound ------------------------------------------------------------------------

  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (pathOf(req.url) !== MESH_PATH) return; // the HTTP API's
    const refuse = (status: number, reason: string): void => {
      this.#inc(`refused:${reason}`);
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    const refusal = upgradeRefusal(req.headers, this.#closing !== undefined, this.#pending.size + this.#upgrading, this.#limits.maxPendingConnections);
    if (refusal !== undefined) return refuse(refusal.status, refusal.reason);
    // ws may refuse a malformed upgrade without calling back: the socket's close releases the slot then.
    let released = false;
    const release = (): void => {
      if (!released) this.#upgrading--;
      released = true;
    };
    this.#upgrading++;
    socket.once('close', release);
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      release();
      if (this.#closing !== undefined) return ws.terminate();
      const conn = this.#connection(ws, 'inbound', null);
      this.#pending.add(conn);
    });
  };

  // ---- links --------------------------------------------------------------------------

  #newLink(address: string, dialAddress: string): Link {
    const l = this.#limits;
    const link = new Link(address, dialAddress, { maxPackets: l.maxQueuedPackets, maxStream: l.maxQueuedStream, maxBytes: l.maxQueuedBytes }, Date.now());
    this.#links.set(address, link);
    return link;
  }

  #dial(link: Link): void {
    this.#inc('dials');
    let ws: WebSocket;
    try {
      ws = new WebSocket(`ws://${link.dialAddress}${MESH_PATH}`, [MESH_SUBPROTOCOL], {
        perMessageDeflate: false,
        maxPayload: this.#maxFrameBytes,
        handshakeTimeout: this.#limits.handshakeTimeoutMs,
        followRedirects: false,
        maxFragments: 16384,
        maxBufferedChunks: 256 * 1024,
      });
    } catch (e) {
      this.#log.warn('cannot dial', { address: link.dialAddress, error: (e as Error).message });
      link.attempt++;
      return this.#evaluate(link);
    }
    const conn = this.#connection(ws, 'outbound', link.lastSelected);
    conn.owner = link;
    conn.sink = link.stats;
    link.dialing = conn;
    this.#setState(link, 'connecting');
  }

  #connection(ws: WebSocket, direction: 'inbound' | 'outbound', replaces: string | null): Connection {
    const l = this.#limits;
    const conn = new Connection({
      ws,
      direction,
      codec: this.#o.codec,
      nodeId: this.#o.nodeId,
      boot: this.#boot,
      selfAddress: () => this.#self,
      replaces,
      handshakeTimeoutMs: l.handshakeTimeoutMs,
      keepaliveMs: l.keepaliveMs,
      maxBufferedBytes: l.maxBufferedBytes,
      hooks: this.#hooks,
    });
    this.#conns.add(conn);
    return conn;
  }

  #onAuthenticated(conn: Connection): void {
    this.#pending.delete(conn);
    const peer = conn.peer;
    if (peer === undefined) return;
    if (peer.address === this.#self) return conn.terminate('self-address');
    const link = this.#linkFor(conn, peer.address);
    conn.owner = link;
    conn.sink = link.stats;
    if (!isArbiter(this.#o.nodeId, peer.nodeId)) return; // the peer decides, with SELECT
    const current = link.conn?.peer === undefined ? null : { id: link.conn.id, nodeId: link.conn.peer.nodeId, boot: link.conn.peer.boot };
    if (arbitrate(current, { id: conn.id, nodeId: peer.nodeId, boot: peer.boot, replaces: peer.replaces }) === 'duplicate') {
      this.#inc('duplicates');
      return conn.close(4001, 'duplicate');
    }
    conn.select();
    this.#adopt(link, conn);
  }

  /** The link a newly authenticated connection belongs to: by the peer's declared listen address. */
  #linkFor(conn: Connection, declared: string): Link {
    const dialed = conn.owner as Link | null;
    if (dialed === null || dialed.address === declared) return this.#links.get(declared) ?? this.#newLink(declared, declared);
    // We dialed one name (a host name, another interface) and the peer calls itself another.
    this.#aliases.set(dialed.address, declared);
    this.#log.debug('peer declares another address than the one dialed', { dialed: dialed.address, declared });
    const existing = this.#links.get(declared);
    this.#links.delete(dialed.address);
    this.#setState(dialed, 'closed');
    if (existing === undefined) {
      dialed.address = declared;
      this.#links.set(declared, dialed);
      this.#setState(dialed, 'connecting');
      return dialed;
    }
    this.#merge(dialed, existing);
    return existing;
  }

  #adopt(candidate: Link, conn: Connection): void {
    // The link may have been forgotten while this connection waited for SELECT: register it again.
    const registered = this.#links.get(candidate.address);
    if (registered === undefined) this.#links.set(candidate.address, candidate);
    else if (registered !== candidate) this.#merge(candidate, registered);
    const link = registered ?? candidate;
    conn.owner = link;
    conn.sink = link.stats;
    const old = link.conn;
    if (old !== null && old !== conn) {
      old.owner = null;
      old.close(4002, 'replaced');
    }
    if (link.dialing !== null && link.dialing !== conn) {
      link.dialing.owner = null;
      link.dialing.close(4003, 'superseded');
    }
    link.dialing = null;
    link.conn = conn;
    link.lastSelected = conn.id;
    link.nodeId = conn.peer?.nodeId ?? null;
    link.openedAt = Date.now();
    link.cancelTimer();
    this.#inc('links:opened');
    this.#setState(link, 'open');
    this.#flush(link, conn);
  }

  /** Moves what `from` holds into `into` (the same peer under its declared address). */
  #merge(from: Link, into: Link): void {
    from.cancelTimer();
    from.dialing = null;
    into.lastSendAt = Math.max(into.lastSendAt, from.lastSendAt);
    for (const q of from.queue.take()) {
      const pushed = into.queue.push(q.payload, q.channel);
      if (!pushed.queued) this.#drop(pushed.reason);
    }
    if (into.conn !== null) this.#flush(into, into.conn);
  }

  /** Sends what waited in the queue through the link's newly open connection. */
  #flush(link: Link, conn: Connection): void {
    const queued = link.queue.take();
    for (let i = 0; i < queued.length; i++) {
      const q = queued[i] as (typeof queued)[number];
      if (conn.sendData(q.payload) === 'sent') this.#inc('messages:out');
      else if (q.channel === 'packet') this.#drop('backpressure');
      else {
        this.#inc('dropped:stream-overflow', queued.length - i);
        return this.#overflow(link, 'stream-backpressure');
      }
    }
  }

  #onData(conn: Connection, payload: Uint8Array): void {
    const link = conn.owner as Link | null;
    if (link === null || link.conn !== conn) return;
    this.#inc('messages:in');
    try {
      this.#o.onMessage(link.address, payload);
    } catch (e) {
      this.#inc('handler-errors');
      this.#log.warn('onMessage threw', { from: link.address, error: (e as Error).message });
    }
  }

  #onClosed(conn: Connection, reason: string, refused: boolean): void {
    this.#conns.delete(conn);
    this.#pending.delete(conn);
    this.#inc(refused ? `refused:${reason}` : `closed:${reason}`);
    if (refused) this.#log.info('connection refused', { reason, peer: conn.peer?.address, direction: conn.direction });
    const link = conn.owner as Link | null;
    if (link === null || this.#links.get(link.address) !== link) return;
    if (link.conn === conn) {
      link.conn = null;
      this.#inc('links:closed');
      const stable = Date.now() - link.openedAt >= this.#limits.stableLinkMs;
      link.attempt = stable ? 0 : link.attempt + 1;
      this.#log.debug('link closed', { address: link.address, reason });
    } else if (link.dialing === conn) {
      link.dialing = null;
      link.attempt++;
    }
    this.#evaluate(link);
  }

  /** Decides what a link without an open connection does next: wait for its dial, redial later, or be forgotten. */
  #evaluate(link: Link): void {
    if (link.conn !== null) return;
    if (link.dialing !== null) return this.#setState(link, 'connecting');
    this.#setState(link, 'closed');
    if (this.#closing !== undefined || link.timer !== null) return;
    const wanted = link.queue.length > 0 || (link.lastSendAt > 0 && Date.now() - link.lastSendAt < this.#limits.idleLinkMs);
    if (!wanted) return this.#forget(link);
    const delay = backoffDelayMs(link.attempt, this.#backoff, this.#random());
    link.timer = setTimeout(() => {
      link.timer = null;
      if (this.#closing !== undefined || link.conn !== null || link.dialing !== null) return;
      if (this.#links.get(link.address) !== link) return;
      this.#inc('reconnects');
      this.#dial(link);
    }, delay).unref();
  }

  #forget(link: Link): void {
    if (this.#links.get(link.address) === link) this.#links.delete(link.address);
    for (const [from, to] of this.#aliases) if (to === link.address || from === link.address) this.#aliases.delete(from);
  }

  /** A stream message could not be kept: reset the link so the break is visible, not a silent gap. */
  #overflow(link: Link, reason: string): void {
    const dropped = link.queue.clear();
    this.#inc('dropped:stream-overflow', dropped);
    this.#log.warn('stream to peer overflowed: link reset', { address: link.address, reason, dropped });
    link.conn?.close(4004, reason);
    link.dialing?.close(4004, reason);
  }

  #setState(link: Link, state: LinkState): void {
    if (link.state === state) return;
    link.state = state;
    link.since = Date.now();
    try {
      this.#o.onLinkState?.(link.address, state);
    } catch (e) {
      this.#log.warn('onLinkState threw', { address: link.address, error: (e as Error).message });
    }
  }

  #drop(reason: string): false {
    this.#inc(`dropped:${reason}`);
    return false;
  }

  #inc(name: string, by = 1): void {
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + by);
  }
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
