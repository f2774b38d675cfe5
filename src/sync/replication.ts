import type { NodeId } from '../core/ids.ts';
import type { SyncContext } from './context.ts';
import { MessageType, type Message, type RecordTuple, type StoredMessage } from './messages.ts';

/** What this node knows of one peer's copy of the data. */
export interface PeerReplication {
  readonly nodeId: NodeId;
  /** Highest seq of OUR writes the peer confirmed committed (STORED), 0 if none yet. */
  readonly storedSeq: number;
  /** The peer's store digest as last seen in anti-entropy or STORED, or undefined. */
  readonly digest: Readonly<Record<string, number>> | undefined;
  /** Monotonic ms of the last message from the peer, or undefined. */
  readonly lastContactMs: number | undefined;
}

interface PeerState {
  storedSeq: number;
  digest: Record<string, number> | undefined;
  lastContactMs: number | undefined;
}

/**
 * Replication bookkeeping for write concern and lag: which origins' watermarks moved through
 * merges (so their writers can be told, once committed, by STORED), what each peer confirmed
 * of our writes, and what each peer's digest was when last seen.
 *
 * Invariants:
 * 1. `storedSeq` of a peer only grows, and only from STORED: it counts committed copies.
 * 2. A STORED goes only to a writer whose watermark moved here since the last confirmation.
 */
export class Replication {
  readonly #ctx: SyncContext;
  readonly #peers = new Map<NodeId, PeerState>();
  #touched = new Set<NodeId>();

  constructor(ctx: SyncContext) {
    this.#ctx = ctx;
  }

  #peer(id: NodeId): PeerState {
    let p = this.#peers.get(id);
    if (p === undefined) {
      p = { storedSeq: 0, digest: undefined, lastContactMs: undefined };
      this.#peers.set(id, p);
    }
    return p;
  }

  /** Notes a message: its sender is in contact; merged records mark their origins touched. */
  observe(m: Message, now: number): void {
    this.#peer(m.from).lastContactMs = now;
    switch (m.t) {
      case MessageType.PUSH:
      case MessageType.ACK:
      case MessageType.ACK2:
      case MessageType.SNAPSHOT_CHUNK:
        this.#touch(m.records);
        if (m.t === MessageType.ACK && m.store !== null) this.#peer(m.from).digest = { ...m.store };
        return;
      case MessageType.SYN:
        if (m.store !== null) this.#peer(m.from).digest = { ...m.store };
        return;
      case MessageType.STORED: {
        const p = this.#peer(m.from);
        p.digest = { ...p.digest, ...m.digest };
        const ours = m.digest[this.#ctx.nodeId];
        if (ours !== undefined && ours > p.storedSeq) p.storedSeq = ours;
        return;
      }
      default:
        return;
    }
  }

  #touch(records: readonly RecordTuple[]): void {
    for (const t of records) {
      const origin = (t as unknown[])[6];
      if (typeof origin === 'string' && origin !== this.#ctx.nodeId) this.#touched.add(origin as NodeId);
    }
  }

  /** After a local commit: tells each writer whose records arrived how far its writes are stored here. */
  confirm(): void {
    const touched = this.#touched;
    if (touched.size === 0) return;
    this.#touched = new Set();
    for (const origin of touched) {
      const seq = this.#ctx.store.watermark(origin);
      if (seq === 0 || !this.#ctx.peers.has(origin)) continue;
      const body: Omit<StoredMessage, 'from' | 'gossip'> = { t: MessageType.STORED, digest: { [origin]: seq } };
      this.#ctx.send(origin, body, 'packet');
    }
  }

  /** Peers (alive now) that confirmed committing our writes up to `seq`. */
  confirmedBy(seq: number): NodeId[] {
    const out: NodeId[] = [];
    for (const [id, p] of this.#peers) if (p.storedSeq >= seq && this.#ctx.peers.has(id)) out.push(id);
    return out;
  }

  /** What we know of every peer that is alive or was heard from. */
  snapshot(): PeerReplication[] {
    return [...this.#peers].map(([nodeId, p]) => ({ nodeId, storedSeq: p.storedSeq, digest: p.digest, lastContactMs: p.lastContactMs }));
  }

  /** Forgets a peer that left or was reaped. */
  forget(id: NodeId): void {
    this.#peers.delete(id);
  }
}
