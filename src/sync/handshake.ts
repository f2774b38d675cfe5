import type { NodeId } from '../core/ids.ts';
import { memberProblem } from '../membership/freshness.ts';
import type { MemberRecord } from '../membership/member.ts';
import type { SyncContext } from './context.ts';
import { MessageType, type HelloMessage, type MessageBody, type RefusalReason, type VersionRange, type WelcomeMessage } from './messages.ts';

/** The highest version both ranges contain, or undefined when they do not overlap. */
export function negotiateVersion(ours: VersionRange, theirs: VersionRange): number | undefined {
  const hi = Math.min(ours[1], theirs[1]);
  return hi >= Math.max(ours[0], theirs[0]) ? hi : undefined;
}

/** Seed backoff after `failures` unanswered rounds: min · 2^failures, capped at max. */
export function seedBackoffMs(minMs: number, maxMs: number, failures: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(failures, 30));
}

/** Most refused peers remembered. */
export const MAX_REFUSED = 1024;

/**
 * HELLO/WELCOME: version negotiation, mesh check, seed contact with backoff while no peer is
 * alive, and introductions to senders we do not know yet.
 *
 * Invariants:
 * 1. A peer is learned (Membership.hello) only after its versions and mesh were accepted.
 * 2. A refused peer stays refused (its other messages are dropped) until a HELLO of it is accepted.
 * 3. Seeds are contacted only while no peer is alive; retries back off up to seedRetryMaxMs.
 */
export class Handshake {
  readonly #ctx: SyncContext;
  readonly #versions: VersionRange;
  readonly #seeds: string[];
  readonly #refused = new Map<NodeId, RefusalReason>();
  readonly #introducedAt = new Map<string, number>();
  readonly #claimedAt = new Map<NodeId, number>();
  #seedFailures = 0;
  #seedRetryAt = Number.POSITIVE_INFINITY;
  #joined = false;

  constructor(ctx: SyncContext, seeds: readonly string[], versions: VersionRange) {
    this.#ctx = ctx;
    this.#versions = versions;
    this.#seeds = [...new Set(seeds)].filter((s) => s !== ctx.selfAddress);
  }

  /** Says HELLO to every seed. */
  start(now: number): void {
    this.#helloSeeds(now);
  }

  /** When `tick` next has seed work. */
  wakeAt(): number {
    return this.#ctx.peers.size === 0 ? this.#seedRetryAt : Number.POSITIVE_INFINITY;
  }

  /** Retries the seeds while no peer is alive, with exponential backoff. */
  tick(now: number): void {
    if (this.#ctx.peers.size > 0) {
      this.#seedFailures = 0;
      this.#seedRetryAt = now + this.#ctx.config.seedRetryMinMs;
      return;
    }
    this.#joined = false;
    if (now >= this.#seedRetryAt) this.#helloSeeds(now);
  }

  #helloSeeds(now: number): void {
    if (this.#seeds.length === 0) return;
    for (const seed of this.#seeds) this.#ctx.sendTo(seed, this.#hello(), 'stream');
    const { seedRetryMinMs, seedRetryMaxMs } = this.#ctx.config;
    const wait = seedBackoffMs(seedRetryMinMs, seedRetryMaxMs, this.#seedFailures++);
    // Jitter keeps a restarted fleet from hitting its seeds in lockstep.
    this.#seedRetryAt = now + Math.round(wait * (1 + this.#ctx.random.next() / 4));
  }

  #hello(): MessageBody {
    const ctx = this.#ctx;
    return { t: MessageType.HELLO, mesh: ctx.mesh, versions: this.#versions, record: ctx.membership.self(), bootNonce: ctx.bootNonce };
  }

  /** Says HELLO to `address` (after an address change, or to a sender we do not know), at most once per seedRetryMinMs. */
  introduce(address: string, now: number): void {
    const last = this.#introducedAt.get(address);
    if (last !== undefined && now - last < this.#ctx.config.seedRetryMinMs) return;
    if (this.#introducedAt.size > 4096) this.#introducedAt.clear(); // bounded; forgetting only allows an early retry
    this.#introducedAt.set(address, now);
    this.#ctx.sendTo(address, this.#hello(), 'stream');
  }

  /** Whether messages from `id` are refused (a failed handshake). */
  isRefused(id: NodeId): boolean {
    return this.#refused.has(id);
  }

  /** Answers a HELLO: refuses on mesh or version mismatch, else learns the peer and welcomes it. */
  onHello(address: string, m: HelloMessage, now: number): void {
    const ctx = this.#ctx;
    const version = negotiateVersion(this.#versions, m.versions);
    if (m.mesh !== ctx.mesh) return this.#refuse(address, m.from, 'mesh-mismatch');
    if (version === undefined) return this.#refuse(address, m.from, 'version-mismatch');
    this.#refused.delete(m.from);
    ctx.learnAddress(m.from, address);
    ctx.applyMembership(ctx.membership.hello(m.record, m.bootNonce, now));
    const body: MessageBody = { t: MessageType.WELCOME, mesh: ctx.mesh, version, versions: this.#versions, record: ctx.membership.self(), bootNonce: ctx.bootNonce };
    ctx.sendTo(address, body, 'stream', true, this.#claim(m.from, m.record, now));
  }

  /**
   * A peer that introduces itself while we hold it suspect, dead or reaped (a healed
   * partition, or a pause) cannot come back at the version we hold against it: it must
   * refute, and for that it must hear the claim. So we tell it, as SWIM's claims allow
   * (others may raise a member's status at the owner's current version). A peer whose
   * generation went backwards (we hold, or reaped, a later one) is told that later life, and
   * continues above it. At most once per seedRetryMinMs per peer, so two peers cannot bounce
   * HELLOs in a loop.
   */
  #claim(id: NodeId, record: unknown, now: number): unknown[] {
    if (memberProblem(record) !== undefined) return [];
    const later = this.#ctx.membership.laterLifeOf(record as MemberRecord);
    const held = this.#ctx.membership.get(id);
    if (later === undefined && (held?.status === 'alive' || held?.status === 'left')) return [];
    const last = this.#claimedAt.get(id);
    if (last !== undefined && now - last < this.#ctx.config.seedRetryMinMs) return [];
    if (this.#claimedAt.size >= MAX_REFUSED) this.#claimedAt.clear();
    this.#claimedAt.set(id, now);
    this.#ctx.counters.inc(later === undefined ? 'claimsSent' : 'laterLifeClaimsSent');
    return [later ?? { ...(record as MemberRecord), status: held?.status === 'suspect' ? 'suspect' : 'dead' }];
  }

  /** A HELLO carrying our own node id: our own echo (same nonce) or a copied identity. */
  onHelloFromSelf(address: string, m: HelloMessage, now: number): void {
    const ctx = this.#ctx;
    if (m.bootNonce === ctx.bootNonce) return ctx.drop('from-self', address);
    ctx.applyMembership(ctx.membership.hello(m.record, m.bootNonce, now));
    ctx.counters.inc('refused:duplicate-identity');
    const body: MessageBody = { t: MessageType.WELCOME, mesh: ctx.mesh, version: 0, versions: this.#versions, record: ctx.membership.self(), bootNonce: ctx.bootNonce, refused: 'duplicate-identity' };
    ctx.sendTo(address, body, 'stream', false);
  }

  #markRefused(id: NodeId, reason: RefusalReason): void {
    // Bounded: node ids in a refused HELLO are the sender's choice. Forgetting the oldest
    // only lets that peer's next messages through to its next (refused) HELLO.
    if (this.#refused.size >= MAX_REFUSED) this.#refused.delete(this.#refused.keys().next().value as NodeId);
    this.#refused.set(id, reason);
  }

  #refuse(address: string, from: NodeId, reason: RefusalReason): void {
    const ctx = this.#ctx;
    this.#markRefused(from, reason);
    ctx.counters.inc(`refused:${reason}`);
    ctx.events.push({ type: 'dropped', reason, from: address });
    const body: MessageBody = { t: MessageType.WELCOME, mesh: ctx.mesh, version: 0, versions: this.#versions, record: ctx.membership.self(), bootNonce: ctx.bootNonce, refused: reason };
    ctx.sendTo(address, body, 'stream', false);
  }

  /**
   * Handles a WELCOME. Returns 'join' for the first accepted WELCOME since we had no peer
   * (the caller then bootstraps or syncs with it), 'accepted' for later ones, else 'refused'.
   */
  onWelcome(address: string, m: WelcomeMessage, now: number): 'join' | 'accepted' | 'refused' {
    const ctx = this.#ctx;
    if (m.refused !== undefined) {
      ctx.counters.inc(`refusedBy:${m.refused}`);
      ctx.events.push({ type: 'dropped', reason: `refused-by-peer:${m.refused}`, from: address });
      if (m.refused === 'duplicate-identity') ctx.events.push({ type: 'duplicate-identity', nodeId: ctx.nodeId, bootNonce: m.bootNonce, address });
      return 'refused';
    }
    if (m.mesh !== ctx.mesh || negotiateVersion(this.#versions, m.versions) !== m.version) {
      const reason = m.mesh !== ctx.mesh ? 'mesh-mismatch' : 'version-mismatch';
      this.#markRefused(m.from, reason);
      ctx.drop(reason, address);
      return 'refused';
    }
    this.#refused.delete(m.from);
    ctx.learnAddress(m.from, address);
    ctx.applyMembership(ctx.membership.hello(m.record, m.bootNonce, now));
    const claim = this.#claim(m.from, m.record, now);
    if (claim.length > 0) ctx.sendTo(address, this.#hello(), 'stream', true, claim);
    if (this.#joined) return 'accepted';
    this.#joined = true;
    return 'join';
  }
}
