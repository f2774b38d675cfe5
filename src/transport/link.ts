import type { Connection, TrafficStats } from './connection.ts';
import { SendQueue, type QueueLimits } from './send-queue.ts';
import type { LinkInfo, LinkState } from './transport.ts';

/**
 * The link to one peer address: the connection that carries it (at most one), our dial in
 * progress (at most one), the queue of messages waiting for it, and its reconnect schedule.
 * MeshTransport owns the decisions; a Link holds the state they are made on.
 */
export class Link {
  /** The peer's declared listen address: the link's name. */
  address: string;
  /** What we dial to reach it (the address we were asked to send to, which may be a host name). */
  readonly dialAddress: string;
  /** The open connection carrying the link, if any. */
  conn: Connection | null = null;
  /** Our outbound connection in progress, if any. */
  dialing: Connection | null = null;
  readonly queue: SendQueue;
  readonly stats: TrafficStats = { bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0 };
  state: LinkState = 'closed';
  since: number;
  /** Failed dials (or short-lived connections) in a row; drives the backoff. */
  attempt = 0;
  timer: NodeJS.Timeout | null = null;
  /** When we last asked to send here (0: never); a link nobody sends to is not redialed. */
  lastSendAt = 0;
  /** When the current connection opened. */
  openedAt = 0;
  /** Id of the last connection that carried the link, sent as `replaces` when we redial. */
  lastSelected: string | null = null;
  nodeId: string | null = null;

  constructor(address: string, dialAddress: string, limits: QueueLimits, now: number) {
    this.address = address;
    this.dialAddress = dialAddress;
    this.queue = new SendQueue(limits);
    this.since = now;
  }

  /** Cancels a pending redial. */
  cancelTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** A snapshot for `links()`. */
  info(): LinkInfo {
    return {
      address: this.address,
      state: this.state,
      nodeId: this.nodeId,
      direction: this.conn?.direction ?? null,
      since: this.since,
      ...this.stats,
      queued: this.queue.length,
      reconnectAttempts: this.attempt,
    };
  }
}
