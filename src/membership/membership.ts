import type { Clock } from '../core/clock.ts';
import { ChorusError, ErrorCode } from '../core/errors.ts';
import { isNodeId, type NodeId } from '../core/ids.ts';
import type { Random } from '../core/random.ts';
import { AWARENESS_DELTA } from './awareness.ts';
import { BroadcastQueue, retransmitLimit } from './broadcast-queue.ts';
import { validateMembershipConfig, type MembershipConfig } from './config.ts';
import { newMembershipCounters, type MembershipCounters } from './counters.ts';
import { cleanMember, compareFreshness, compareVersion, maxGeneration, memberProblem, parseVersion, sameVersion, versionOf, withStatus } from './freshness.ts';
import type { MemberRecord } from './member.ts';
import { MemberTable, type Entry } from './member-table.ts';
import { probeMessageProblem, type MembershipOutput, type ProbeMessage } from './messages.ts';
import { Prober, type ProbeCandidates } from './probe.ts';
import { laterLife, selfVerdict } from './self-news.ts';

/** What a Membership needs to start: our own record (alive, incarnation 0 unless given), boot nonce, config, randomness, time. */
export interface MembershipInit {
  self: Omit<MemberRecord, 'status' | 'incarnation'> & { incarnation?: number };
  bootNonce: string;
  config: MembershipConfig;
  random: Random;
  /** The time base of the `now` arguments (monotonic: timers only). */
  now: number;
  /** Wall-clock time, read only to bound generations (which may be epoch seconds; see maxGeneration). */
  clock: Clock;
}

/** Why #evaluate is called. */
type Evidence =
  /** A validated record from gossip, a hello, or anti-entropy; `source` is the peer that sent it (a suspecter only of its own dead claims: see 5 and 9). */
  | { readonly kind: 'record'; readonly record: MemberRecord; readonly source: NodeId | undefined }
  /** Our own write (leave, address change): only valid for ourselves. */
  | { readonly kind: 'own'; readonly record: MemberRecord }
  /** Our probe period of this member ended without an ack. */
  | { readonly kind: 'probe-failed' }
  /** Time passed: suspicions may expire, dead and left members may be reaped. */
  | { readonly kind: 'timers' };

/**
 * A sans-I/O SWIM + Lifeguard membership state machine (DESIGN.md, Membership and failure
 * detection). Every call takes `now` and returns what to send and what changed; the caller
 * owns sockets and timers.
 *
 * Invariants, all decided in `#evaluate`, the one place where a member's record changes
 * (MemberTable does the bookkeeping of 5 to 7):
 *  1. Only records that pass `memberProblem` and whose generation is at most
 *     `maxGeneration` of the wall clock reach `#evaluate`; the rest are counted and dropped.
 *  2. Another member's owner fields (name, generation, incarnation, addresses, port,
 *     capabilities, tags) change only with a strictly fresher version, taken whole.
 *  3. A claim at the version we hold may only raise the status rank (alive → suspect →
 *     dead → left) and changes nothing else (but `suspectedBy`, see 5).
 *  4. Our own record changes only by our own writes (leave, setAddresses), refutations and
 *     generation raises, and is never suspect or dead: news about us at our generation that
 *     is fresher than our record is refuted with incarnation = its incarnation + 1. News of
 *     a higher generation means ours went backwards (a restored data directory): we continue
 *     at that generation + 1, incarnation 0, and report a `generation` output (selfVerdict
 *     says when not: then it is counted as `supersededSelf`).
 *  5. A member has a running Suspicion iff its status is suspect. Each independent
 *     suspecter (a claim's `suspectedBy`, or ourselves when our own probe fails), other
 *     than the suspect, confirms it at most once; a new confirmation is stamped on the
 *     record and gossiped, so others count it too (memberlist rebroadcasts confirmations).
 *     Relaying peers are not suspecters (but see 9). When it runs out, the member is dead at the same
 *     version.
 *  6. Dead and left members are reaped `reapTimeoutMs` after entering that status, leaving
 *     a tombstone of their version; nothing at or below a tombstone is learned again.
 *  7. Every status change (first learning and reaping included) emits exactly one
 *     `status` output, and every accepted change is queued for piggybacking.
 *  8. Our own node id is never a peer entry; a hello with our id and another boot nonce is
 *     reported as `duplicate-identity` and goes no further.
 *  9. A remote claim that a member we hold alive is dead (at our version or a fresher one)
 *     makes it suspect, its sender the suspecter; only a claim against a suspicion at the
 *     same version, from a sender that does not count in it yet, makes it dead.
 * 10. A member that announces itself at a lower generation than we hold is sent our record
 *     (queued first, and a ping to carry it), so it learns of its later life; a reaped one
 *     is told through the handshake (`laterLifeOf`).
 *
 * `checkInvariants()` checks 4 to 8 and the derived state (watched ids: exactly the entries
 * that are not alive; the cached id lists; the awareness score within its range) mechanically.
 *
 * Lifeguard's local health awareness (awareness.ts): each failed probe of ours and each
 * refutation of a suspicion about us raise a score, each acked probe lowers it; our probe
 * interval and timeout are stretched by score + 1.
 */
export class Membership {
  readonly #config: MembershipConfig;
  readonly #bootNonce: string;
  readonly #clock: Clock;
  readonly #selfId: NodeId;
  #self: MemberRecord;
  readonly #queue = new BroadcastQueue();
  readonly #counters = newMembershipCounters();
  readonly #table: MemberTable;
  readonly #prober: Prober;
  #out: MembershipOutput[] = [];
  /** Whether we raised our generation above a live later life in this run (see selfVerdict). */
  #raisedAboveLive = false;

  /** Starts as an alive member knowing only itself; throws CHORUS_INVALID_CONFIG on a bad config or self record. */
  constructor(init: MembershipInit) {
    this.#config = validateMembershipConfig(init.config as unknown as Readonly<Record<string, unknown>>);
    const self = { ...init.self, status: 'alive', incarnation: init.self.incarnation ?? 0 };
    const problem = memberProblem(self);
    if (problem !== undefined) throw new ChorusError(ErrorCode.InvalidConfig, `membership self record: ${problem}`);
    this.#self = cleanMember(self as MemberRecord);
    this.#clock = init.clock;
    if (this.#self.generation > this.#maxGeneration()) {
      throw new ChorusError(ErrorCode.InvalidConfig, `membership self record: generation ${this.#self.generation} is beyond maxGeneration`);
    }
    this.#selfId = this.#self.nodeId;
    this.#bootNonce = init.bootNonce;
    this.#table = new MemberTable(this.#config, this.#queue, this.#counters, (o) => this.#out.push(o));
    this.#prober = new Prober(this.#selfId, this.#config, init.random, this.#counters, init.now);
    this.#queue.enqueue(this.#selfId, true);
  }

  /** Does the periodic work that is due at `now` (probe start, ping-req escalation, suspicion, expiry, reaping). */
  tick(now: number): MembershipOutput[] {
    const { sends, failed } = this.#prober.tick(now, this.#candidates);
    for (const send of sends) {
      // Lifeguard's buddy system: a ping to a suspect carries the suspicion, so it can refute.
      const target = send.type === 'send' && send.message.kind === 'ping' ? this.#table.get(send.to) : undefined;
      if (target?.record.status === 'suspect') this.#queue.enqueue(target.record.nodeId, true);
    }
    this.#out.push(...sends);
    if (failed !== undefined) this.#evaluate(failed, { kind: 'probe-failed' }, now);
    for (const id of this.#table.watched()) this.#evaluate(id, { kind: 'timers' }, now);
    return this.#drain();
  }

  /**
   * When `tick` next has work: a probe step, a suspicion running out, or a reap. Callers may
   * tick exactly then instead of on a grid, so no timeout is stretched by the grid's step.
   */
  nextWakeAt(): number {
    return Math.min(this.#prober.wakeAt(), this.#table.nextDeadline());
  }

  /** Handles a probe message from an authenticated peer: answers pings, relays ping-reqs, matches acks. */
  handleProbe(from: NodeId, message: ProbeMessage, now: number): MembershipOutput[] {
    if (!isNodeId(from) || probeMessageProblem(message) !== undefined) {
      this.#counters.invalidProbe++;
      return [];
    }
    this.heard(from, now);
    this.#out.push(...this.#prober.handle(from, message, now));
    return this.#drain();
  }

  /** Applies member records received by gossip or anti-entropy; invalid ones are counted and dropped. */
  applyGossip(updates: readonly unknown[], now: number, from?: NodeId): MembershipOutput[] {
    if (from !== undefined) this.heard(from, now);
    for (const update of updates) this.#accept(update, now, from);
    return this.#drain();
  }

  /** An authenticated peer introduced itself: detect a copy of our identity, else learn it and count it as alive. */
  hello(record: unknown, bootNonce: string, now: number): MembershipOutput[] {
    if (memberProblem(record) !== undefined) {
      this.#counters.invalidGossip++;
      return [];
    }
    const nodeId = (record as MemberRecord).nodeId;
    if (nodeId === this.#selfId) {
      // The same nonce is ourselves reached through a loop (a seed list naming our own address).
      if (bootNonce !== this.#bootNonce) {
        this.#counters.duplicateIdentity++;
        this.#out.push({ type: 'duplicate-identity', nodeId, bootNonce });
      }
      return this.#drain();
    }
    this.#accept(record, now, nodeId);
    this.heard(nodeId, now);
    return this.#drain();
  }

  /**
   * An authenticated message from `from` arrived. It does not satisfy a probe of `from` (only
   * a matching ack does), but it shows where our news must go.
   */
  heard(from: NodeId, _now: number): void {
    // Lifeguard's buddy system, extended: a member we hold as suspect or dead is talking to
    // us, so our next messages carry that claim, for it to hear and refute.
    const status = this.#table.get(from)?.record.status;
    if ((status === 'suspect' || status === 'dead') && !this.#queue.has(from)) this.#queue.enqueue(from, true);
    // Whoever still talks to us after we left has not heard it yet.
    if (this.#self.status === 'left' && !this.#queue.has(this.#selfId)) this.#queue.enqueue(this.#selfId, true);
  }

  /** Up to `max` (capped at gossipMaxPerMessage) queued updates, each sent ceil(λ·log10(N+1)) times, fewest-sent first. */
  piggyback(max: number): MemberRecord[] {
    const limit = retransmitLimit(this.#config.retransmitMult, this.#table.size + 1);
    const ids = this.#queue.take(Math.min(max, this.#config.gossipMaxPerMessage), limit);
    return ids.map((id) => this.get(id)).filter((r): r is MemberRecord => r !== undefined);
  }

  /** Our view as { nodeId: [generation, incarnation, status rank] }, ourselves included, for anti-entropy. */
  digest(): Record<string, [generation: number, incarnation: number, rank: number]> {
    const out: Record<string, [number, number, number]> = {};
    for (const r of this.members()) {
      const [g, i, rank] = versionOf(r);
      out[r.nodeId] = [g, i, rank];
    }
    return out;
  }

  /** Our records (ourselves included) fresher than the peer's digest entry, or missing from it (a malformed entry counts as missing). */
  recordsFor(peerDigest: Readonly<Record<string, unknown>>): MemberRecord[] {
    return this.members().filter((r) => {
      const theirs = Object.hasOwn(peerDigest, r.nodeId) ? parseVersion(peerDigest[r.nodeId]) : undefined;
      return theirs === undefined || compareVersion(versionOf(r), theirs) > 0;
    });
  }

  /** Graceful leave: our status becomes left at incarnation + 1, gossiped first; probing stops. */
  leave(now: number): MembershipOutput[] {
    if (this.#self.status === 'left') return [];
    const record = Object.freeze({ ...this.#self, status: 'left' as const, incarnation: this.#self.incarnation + 1 });
    this.#evaluate(this.#selfId, { kind: 'own', record }, now);
    this.#prober.stop();
    return this.#drain();
  }

  /** Our addresses changed: incarnation + 1, gossiped first. Throws CHORUS_INVALID_CONFIG on bad addresses or port. */
  setAddresses(addresses: readonly string[], port: number, now: number): MembershipOutput[] {
    const candidate = { ...this.#self, addresses: [...addresses], port, incarnation: this.#self.incarnation + 1 };
    const problem = memberProblem(candidate);
    if (problem !== undefined) throw new ChorusError(ErrorCode.InvalidConfig, `membership addresses: ${problem}`);
    this.#evaluate(this.#selfId, { kind: 'own', record: cleanMember(candidate) }, now);
    return this.#drain();
  }

  /**
   * What we remember of `record`'s member at a higher generation than it carries (our record,
   * or a reaped member's tombstone version), for telling a member whose generation went
   * backwards; undefined when we remember nothing later.
   */
  laterLifeOf(record: MemberRecord): MemberRecord | undefined {
    if (record.nodeId === this.#selfId) return undefined;
    return laterLife(record, this.#table.get(record.nodeId)?.record, this.#table.tombstone(record.nodeId));
  }

  /** Our own record as the mesh should see it. */
  self(): MemberRecord {
    return this.#self;
  }

  /** The record of `nodeId` (ourselves included), or undefined if unknown or reaped. */
  get(nodeId: NodeId): MemberRecord | undefined {
    return nodeId === this.#selfId ? this.#self : this.#table.get(nodeId)?.record;
  }

  /** Every member we hold, ourselves included, reaped ones excluded, sorted by node id. */
  members(): MemberRecord[] {
    return [this.#self, ...this.#table.records()].sort(byNodeId);
  }

  /** Alive and suspect members other than ourselves, sorted. */
  aliveNodeIds(): NodeId[] {
    return this.#table.ids('live').slice();
  }

  /**
   * Every violated invariant (see the class comment, and own record never suspect or dead),
   * described for a human; empty when all hold. Tests and the simulator call it after every step.
   */
  checkInvariants(): string[] {
    return this.#table.problems(this.#selfId, this.#self);
  }

  /** A snapshot of the counters (see MembershipCounters; assignable to Readonly<Record<string, number>>). */
  counters(): Readonly<MembershipCounters> {
    return Object.freeze({ ...this.#counters });
  }

  readonly #candidates: ProbeCandidates = {
    targets: () => this.#table.ids('live'),
    helpers: () => this.#table.ids('alive'),
  };

  #drain(): MembershipOutput[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  /** Invariant 1: validate, bound the generation, then evaluate. */
  #accept(x: unknown, now: number, source: NodeId | undefined): void {
    if (memberProblem(x) !== undefined) {
      this.#counters.invalidGossip++;
      return;
    }
    const record = cleanMember(x as MemberRecord);
    if (record.generation > this.#maxGeneration()) {
      this.#counters.ignoredFutureGeneration++;
      return;
    }
    this.#evaluate(record.nodeId, { kind: 'record', record, source }, now);
  }

  /** The highest generation accepted now: bounded by the wall clock, never by the monotonic `now`. */
  #maxGeneration(): number {
    return maxGeneration(this.#clock.now(), this.#config.maxFutureGenerationMs);
  }

  /** The one place where a member's record and status are decided (see the invariants above). */
  #evaluate(nodeId: NodeId, evidence: Evidence, now: number): void {
    if (nodeId === this.#selfId) return this.#evaluateSelf(evidence);
    const entry = this.#table.get(nodeId);
    switch (evidence.kind) {
      case 'record':
        return this.#evaluateRecord(nodeId, entry, evidence.record, evidence.source, now);
      case 'probe-failed':
        if (entry?.record.status === 'alive') this.#table.commit(entry, withStatus(entry.record, 'suspect', this.#selfId), this.#selfId, now);
        else if (entry?.record.status === 'suspect') this.#table.confirm(entry, this.#selfId);
        return;
      case 'timers': {
        const status = entry?.record.status;
        if (entry === undefined) return;
        if (status === 'suspect' && (entry.suspicion?.remaining(now) ?? 0) <= 0) this.#table.commit(entry, withStatus(entry.record, 'dead'), undefined, now);
        else if ((status === 'dead' || status === 'left') && now - entry.since >= this.#config.reapTimeoutMs) this.#table.reap(entry);
        return;
      }
      case 'own':
        return; // only we write our own record
    }
  }

  /** Invariants 2, 3, 5, 6 and 9 for a record about another member. */
  #evaluateRecord(nodeId: NodeId, entry: Entry | undefined, record: MemberRecord, source: NodeId | undefined, now: number): void {
    const suspecter = record.suspectedBy === nodeId ? undefined : record.suspectedBy;
    if (entry === undefined) {
      const tombstone = this.#table.tombstone(nodeId);
      if (tombstone === undefined || compareVersion(versionOf(record), tombstone) > 0) this.#table.commit(undefined, record, suspecter, now);
      return;
    }
    const order = compareFreshness(record, entry.record);
    if (order === 0 && record.status === 'suspect') this.#table.confirm(entry, suspecter);
    if (order < 0 && source === nodeId && record.generation < entry.record.generation) return this.#tellLaterLife(nodeId);
    if (order <= 0) return;
    if (record.status === 'dead') return this.#deadClaim(entry, record, source === nodeId ? undefined : source, now);
    this.#table.commit(entry, sameVersion(record, entry.record) ? withStatus(entry.record, record.status, suspecter) : record, suspecter, now);
  }

  /**
   * Invariant 9: a claim from `claimant` that a member is dead, fresher than what we hold.
   * Against a member we hold alive it is only a suspicion (memberlist's push-pull does the
   * same), so the member can refute: an isolated node's stale verdicts must not kill the
   * nodes it lost sight of when the partition heals. Against a suspicion at the same version
   * it is applied, unless the claimant already counts in that suspicion: its stale record,
   * retransmitted or relayed back as a suspicion, is no new evidence.
   */
  #deadClaim(entry: Entry, record: MemberRecord, claimant: NodeId | undefined, now: number): void {
    const held = entry.record;
    const same = sameVersion(record, held);
    if (held.status === 'alive') return this.#table.commit(entry, withStatus(same ? held : record, 'suspect', claimant), claimant, now);
    if (same && held.status === 'suspect' && claimant !== undefined && entry.suspicion?.counts(claimant) === true) return;
    this.#table.commit(entry, same ? withStatus(held, 'dead') : record, undefined, now);
  }

  /** Invariant 10: `nodeId` runs at a lower generation than we hold: send it ours, first in line. */
  #tellLaterLife(nodeId: NodeId): void {
    this.#counters.laterLivesTold++;
    this.#queue.enqueue(nodeId, true);
    this.#out.push(this.#prober.nudge(nodeId));
  }

  /** Invariant 4: our own writes apply; fresher news about us is refuted, or continued above. */
  #evaluateSelf(evidence: Evidence): void {
    const me = this.#self;
    if (evidence.kind === 'own') {
      this.#self = evidence.record;
      this.#queue.enqueue(this.#selfId, true);
      if (evidence.record.status !== me.status) {
        this.#out.push({ type: 'status', nodeId: this.#selfId, previous: me.status, status: evidence.record.status, member: evidence.record });
      }
      return;
    }
    if (evidence.kind !== 'record') return;
    const verdict = selfVerdict(me, evidence.record, { maxGeneration: this.#maxGeneration(), raisedAboveLive: this.#raisedAboveLive });
    switch (verdict.kind) {
      case 'ignore':
        return;
      case 'reannounce':
        return this.#reannounce(evidence.source);
      case 'superseded':
        this.#counters.supersededSelf++;
        return;
      case 'refute':
        this.#self = Object.freeze({ ...me, incarnation: verdict.incarnation });
        this.#counters.refutations++;
        // Being suspected is a sign that we, not the others, are slow (Lifeguard).
        this.#prober.adjustAwareness(AWARENESS_DELTA.refuted);
        this.#queue.enqueue(this.#selfId, true);
        return;
      case 'raise':
        this.#self = Object.freeze({ ...me, generation: verdict.generation, incarnation: 0, status: 'alive' });
        this.#raisedAboveLive ||= verdict.live;
        this.#counters.generationRaises++;
        this.#queue.enqueue(this.#selfId, true);
        this.#out.push({ type: 'generation', previous: me.generation, generation: verdict.generation });
        return;
    }
  }

  /**
   * `source` holds an older record of us (a refuted suspicion, a previous life, old
   * addresses) and its gossip would stop before it learns better: queue ours first and
   * send it a ping, whose piggyback carries it.
   */
  #reannounce(source: NodeId | undefined): void {
    this.#counters.reannouncements++;
    this.#queue.enqueue(this.#selfId, true);
    if (source !== undefined && source !== this.#selfId) this.#out.push(this.#prober.nudge(source));
  }
}

const byNodeId = (a: MemberRecord, b: MemberRecord): number => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0);
