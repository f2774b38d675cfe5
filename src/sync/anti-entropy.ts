import type { NodeId } from '../core/ids.ts';
import { recordToTuple } from '../store/record-codec.ts';
import type { DeltaBatch, Digest } from '../store/store.ts';
import { scaledSyncIntervalMs } from './config.ts';
import type { SyncContext } from './context.ts';
import type { OwnSeq } from './own-seq.ts';
import { MessageType, type Ack2Message, type AckMessage, type MemberDigest, type SynMessage } from './messages.ts';

/** A fingerprint of a store digest: watermarks only grow, so the sum grows iff one did. */
export function digestSum(d: Readonly<Record<string, number>>): number {
  let s = 0;
  for (const k in d) s += d[k] as number;
  return s;
}

/** A fingerprint of a member digest: it changes whenever an entry is added or becomes fresher. */
export function memberFingerprint(d: MemberDigest): number {
  let s = 0;
  let n = 0;
  for (const k in d) {
    const v = d[k] as readonly [number, number, number];
    s += v[0] * 7 + v[1] * 3 + v[2];
    n++;
  }
  return s * 1_000_003 + n;
}

/** Progress marks of one exchange, compared round to round. */
interface Exchange {
  rounds: number;
  ours: number;
  theirs: number;
  ourMembers: number;
  theirMembers: number;
}

/** Most rounds one exchange may take, whatever happens (each round must also make progress). */
export const MAX_EXCHANGE_ROUNDS = 100_000;

const EMPTY_BATCH: DeltaBatch = { records: [], covers: [], complete: true };

/**
 * Scuttlebutt anti-entropy: every (scaled) sync interval one SYN/ACK/ACK2 exchange with a
 * random alive peer, carrying member and store digests; replies are cut at the batch
 * budgets, and an exchange whose batches were cut continues at once with the same peer for
 * as long as each round makes progress.
 *
 * Invariants:
 * 1. Only the initiator continues an exchange; it does so only when a batch was cut and a
 *    digest (ours or theirs, store or members) moved since the previous round.
 * 2. A side that is bootstrapping sends `store: null`, is sent no store records, and sends
 *    none (a replica being verified must not spread what it may yet drop).
 * 3. Every SYN/ACK/ACK2 carries our collected state (`gc`); covers from a peer that forgot
 *    deletions we never saw are not taken (Bootstrap verifies us against it first).
 * 4. A peer's store digest reaches OwnSeq before we compute what to send it.
 */
export class AntiEntropy {
  readonly #ctx: SyncContext;
  readonly #exchanges = new Map<NodeId, Exchange>();
  readonly #ownSeq: OwnSeq;
  #nextRoundAt: number;

  constructor(ctx: SyncContext, ownSeq: OwnSeq, now: number) {
    this.#ctx = ctx;
    this.#ownSeq = ownSeq;
    this.#nextRoundAt = now;
    this.schedule(now);
    ctx.onPeerGone((id) => this.#exchanges.delete(id));
  }

  /** Puts the first periodic round at a random point of the interval after `now`. */
  schedule(now: number): void {
    // A random phase keeps a fleet that started together from syncing in lockstep.
    this.#nextRoundAt = now + Math.floor(this.#ctx.random.next() * this.#ctx.config.syncIntervalMs);
  }

  /** When the next periodic round is due. */
  wakeAt(): number {
    return this.#nextRoundAt;
  }

  /** Whether a periodic round is due at `now`; if so, schedules the one after it. */
  due(now: number): boolean {
    if (now < this.#nextRoundAt) return false;
    this.#nextRoundAt = now + scaledSyncIntervalMs(this.#ctx.config.syncIntervalMs, this.#ctx.peers.size + 1);
    return true;
  }

  /** Opens an exchange with `peer` (a periodic round, or joining). */
  open(peer: NodeId, bootstrapping: boolean): void {
    this.#ctx.counters.inc('syncRounds');
    this.#exchanges.set(peer, { rounds: 0, ours: -1, theirs: -1, ourMembers: -1, theirMembers: -1 });
    this.#syn(peer, bootstrapping);
  }

  #syn(peer: NodeId, bootstrapping: boolean): void {
    const ctx = this.#ctx;
    ctx.send(peer, { t: MessageType.SYN, members: ctx.membership.digest(), store: bootstrapping ? null : ctx.store.digest(), gc: ctx.store.collectedState() }, 'stream');
  }

  #memberBatch(peerDigest: MemberDigest): { members: unknown[]; complete: boolean } {
    const all = this.#ctx.membership.recordsFor(peerDigest);
    const max = this.#ctx.config.maxBatchRecords;
    return all.length <= max ? { members: all, complete: true } : { members: all.slice(0, max), complete: false };
  }

  #deltas(peerDigest: Digest | null, bootstrapping: boolean): DeltaBatch {
    return peerDigest === null || bootstrapping ? EMPTY_BATCH : this.#ctx.store.deltasFor(peerDigest, this.#ctx.limits);
  }

  /** Responder: answers a SYN with what the initiator lacks and what we hold. */
  onSyn(address: string, m: SynMessage, bootstrapping: () => boolean): void {
    const ctx = this.#ctx;
    this.#ownSeq.observe(m.from, m.store, ctx.now);
    ctx.staleAgainst(m.from, m.gc);
    const batch = this.#deltas(m.store, bootstrapping());
    const members = this.#memberBatch(m.members);
    const body = {
      t: MessageType.ACK,
      records: batch.records.map(recordToTuple),
      covers: batch.covers,
      complete: batch.complete && members.complete,
      members: members.members,
      memberDigest: ctx.membership.digest(),
      store: bootstrapping() ? null : ctx.store.digest(),
      gc: ctx.store.collectedState(),
    } as const;
    ctx.sendTo(address, body, 'stream');
  }

  /** Initiator: applies the ACK, answers with ACK2, and continues while batches are cut. */
  onAck(address: string, m: AckMessage, now: number, bootstrapping: () => boolean): void {
    const ctx = this.#ctx;
    this.#ownSeq.observe(m.from, m.store, now);
    ctx.applyMembership(ctx.membership.applyGossip(m.members, now, m.from));
    ctx.merge(m.records, ctx.staleAgainst(m.from, m.gc) ? [] : m.covers);
    const batch = this.#deltas(m.store, bootstrapping());
    const members = this.#memberBatch(m.memberDigest);
    const complete = batch.complete && members.complete;
    const body = { t: MessageType.ACK2, records: batch.records.map(recordToTuple), covers: batch.covers, complete, members: members.members, gc: ctx.store.collectedState() } as const;
    ctx.sendTo(address, body, 'stream');
    const ex = this.#exchanges.get(m.from);
    if (ex === undefined) return;
    if (m.complete && complete) {
      this.#exchanges.delete(m.from);
      return;
    }
    const marks = {
      ours: digestSum(ctx.store.digest()),
      theirs: m.store === null ? 0 : digestSum(m.store),
      ourMembers: memberFingerprint(ctx.membership.digest()),
      theirMembers: memberFingerprint(m.memberDigest),
    };
    const progress = marks.ours !== ex.ours || marks.theirs !== ex.theirs || marks.ourMembers !== ex.ourMembers || marks.theirMembers !== ex.theirMembers;
    if (!progress || ex.rounds >= MAX_EXCHANGE_ROUNDS) {
      ctx.counters.inc('syncStalled');
      this.#exchanges.delete(m.from);
      return;
    }
    Object.assign(ex, marks, { rounds: ex.rounds + 1 });
    ctx.counters.inc('syncContinuations');
    this.#syn(m.from, bootstrapping());
  }

  /** Responder: applies the initiator's ACK2. */
  onAck2(m: Ack2Message, now: number): void {
    const ctx = this.#ctx;
    ctx.applyMembership(ctx.membership.applyGossip(m.members, now, m.from));
    ctx.merge(m.records, ctx.staleAgainst(m.from, m.gc) ? [] : m.covers);
  }
}
