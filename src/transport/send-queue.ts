import type { Channel } from './transport.ts';

/** Bounds of the queue a link keeps while it is not open. */
export interface QueueLimits {
  /** Packets kept; beyond it the oldest is dropped (they are best-effort and newer ones matter more). */
  readonly maxPackets: number;
  /** Stream messages kept; beyond it the link is reset, and anti-entropy repairs what was lost. */
  readonly maxStream: number;
  /** Bytes kept over both channels. */
  readonly maxBytes: number;
}

/** What happened to a pushed message. */
export type PushOutcome = { readonly queued: true; readonly droppedPackets: number } | { readonly queued: false; readonly reason: 'packet-queue-full' | 'stream-overflow' };

/** A queued message with its channel. */
export interface Queued {
  readonly payload: Uint8Array;
  readonly channel: Channel;
}

/**
 * Messages waiting for a link to open, bounded. Packets overflow by dropping the oldest;
 * stream messages never overflow silently: the push says 'stream-overflow' and the caller resets
 * the link, because a gap inside an ordered stream would be worse than a visible break.
 */
export class SendQueue {
  #packets: Uint8Array[] = [];
  #stream: Uint8Array[] = [];
  #bytes = 0;
  #packetBytes = 0;

  constructor(readonly limits: QueueLimits) {}

  /** Queues a message, or says why not. */
  push(payload: Uint8Array, channel: Channel): PushOutcome {
    if (channel === 'stream') {
      if (this.#stream.length >= this.limits.maxStream || this.#bytes + payload.length > this.limits.maxBytes) return { queued: false, reason: 'stream-overflow' };
      this.#stream.push(payload);
      this.#bytes += payload.length;
      return { queued: true, droppedPackets: 0 };
    }
    // A packet that would not fit even with every other packet gone is refused without dropping any.
    if (this.limits.maxPackets === 0 || this.#bytes - this.#packetBytes + payload.length > this.limits.maxBytes) return { queued: false, reason: 'packet-queue-full' };
    let dropped = 0;
    while (this.#packets.length > 0 && (this.#packets.length >= this.limits.maxPackets || this.#bytes + payload.length > this.limits.maxBytes)) {
      const oldest = (this.#packets.shift() as Uint8Array).length;
      this.#bytes -= oldest;
      this.#packetBytes -= oldest;
      dropped++;
    }
    this.#packets.push(payload);
    this.#bytes += payload.length;
    this.#packetBytes += payload.length;
    return { queued: true, droppedPackets: dropped };
  }

  /** Empties the queue: stream messages first (in order), then packets (in order). */
  take(): Queued[] {
    const out: Queued[] = [...this.#stream.map((payload) => ({ payload, channel: 'stream' as const })), ...this.#packets.map((payload) => ({ payload, channel: 'packet' as const }))];
    this.clear();
    return out;
  }

  /** Drops everything; returns how many messages were dropped. */
  clear(): number {
    const n = this.length;
    this.#packets = [];
    this.#stream = [];
    this.#bytes = 0;
    this.#packetBytes = 0;
    return n;
  }

  /** Messages queued. */
  get length(): number {
    return this.#packets.length + this.#stream.length;
  }

  /** Bytes queued. */
  get bytes(): number {
    return this.#bytes;
  }
}
