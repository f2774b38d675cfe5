import type { NodeId } from '../core/ids.ts';
import { randomInt, sample, type Random } from '../core/random.ts';
import type { MembershipConfig } from './config.ts';
import { AWARENESS_DELTA, nextAwareness, scaleByAwareness } from './awareness.ts';
import type { MembershipOutput, ProbeMessage } from './messages.ts';
import { EMPTY_ROUND_ROBIN, nextRoundRobin, type RoundRobin } from './round-robin.ts';

// The SWIM probe cycle, without any status decisions: it says which probe failed and leaves
// the verdict to Membership. Only an ack carrying the probe's sequence number and target
// (direct, or relayed by a ping-req helper) satisfies a probe, as in memberlist: other traffic
// from the target proves that it can send, not that it hears us. One probe is open at a time:
//   startedAt                      ping the target
//   startedAt + probeTimeoutMs     no ack yet: ping-req through k random alive others
//   end of the probe period        no ack at all: report the target as failed
// The period ends at startedAt + probeIntervalMs, or, when the ping-reqs went out late
// (a coarse tick), probeIntervalMs − probeTimeoutMs after they did, so helpers always
// get their share of the period. Both durations are stretched by the awareness score at the
// probe's start (Lifeguard scales the probe interval and timeout; see awareness.ts).

/** Counters the prober increments (a subset of Membership's). */
export interface ProbeCounters {
  probesSent: number;
  indirectProbes: number;
  relayedProbes: number;
  droppedRelays: number;
  /** Lifeguard's local health score (see awareness.ts), kept here by the prober. */
  awareness: number;
}

/** Lists the prober asks for, computed only when a probe needs them. */
export interface ProbeCandidates {
  /** Members to probe: not ourselves, alive or suspect, sorted. */
  targets(): readonly NodeId[];
  /** Members that may help with an indirect probe: not ourselves, alive, sorted. */
  helpers(): readonly NodeId[];
}

interface OpenProbe {
  readonly seq: number;
  readonly target: NodeId;
  readonly startedAt: number;
  /** probeIntervalMs and probeTimeoutMs, stretched by the awareness score at the start. */
  readonly intervalMs: number;
  readonly timeoutMs: number;
  endsAt: number;
  indirectSent: boolean;
  acked: boolean;
}

interface Relay {
  readonly requester: NodeId;
  readonly requesterSeq: number;
  readonly target: NodeId;
  readonly expiresAt: number;
}

/** Most ping-reqs relayed at once; beyond this, new ones are dropped (a peer cannot make us flood). */
export const MAX_RELAYS = 1024;

/** The probe cycle of one node: schedules probes, escalates, relays for others, matches acks. */
export class Prober {
  readonly #self: NodeId;
  readonly #config: MembershipConfig;
  readonly #random: Random;
  readonly #counters: ProbeCounters;
  #seq: number;
  #roundRobin: RoundRobin = EMPTY_ROUND_ROBIN;
  #open: OpenProbe | undefined;
  #nextProbeAt: number;
  #stopped = false;
  readonly #relays = new Map<number, Relay>();

  /** A prober whose first probe starts at a random offset within the first interval (nodes do not probe in lockstep). */
  constructor(self: NodeId, config: MembershipConfig, random: Random, counters: ProbeCounters, now: number) {
    this.#self = self;
    this.#config = config;
    this.#random = random;
    this.#counters = counters;
    // A random start makes acks of a previous run of this node unlikely to match.
    this.#seq = random.uint32();
    this.#nextProbeAt = now + randomInt(random, config.probeIntervalMs);
  }

  /** Stops starting probes (after a graceful leave); relaying and answering go on. */
  stop(): void {
    this.#stopped = true;
    this.#open = undefined;
  }

  /** When `tick` next has work: the escalation or end of the open probe, else the next probe. */
  wakeAt(): number {
    if (this.#stopped) return Number.POSITIVE_INFINITY;
    const p = this.#open;
    if (p === undefined) return this.#nextProbeAt;
    return !p.acked && !p.indirectSent ? p.startedAt + p.timeoutMs : p.endsAt;
  }

  /** The work due at `now`: sends to make, and the target whose probe period ended without an ack. */
  tick(now: number, candidates: ProbeCandidates): { sends: MembershipOutput[]; failed: NodeId | undefined } {
    const sends: MembershipOutput[] = [];
    const failed = this.#advanceOpen(now, candidates, sends);
    if (!this.#stopped && this.#open === undefined && now >= this.#nextProbeAt) this.#start(now, candidates, sends);
    for (const [seq, relay] of this.#relays) if (now >= relay.expiresAt) this.#relays.delete(seq);
    return { sends, failed };
  }

  /** Moves Lifeguard's local health score by `delta` (see awareness.ts); probes started from now on follow it. */
  adjustAwareness(delta: number): void {
    this.#counters.awareness = nextAwareness(this.#counters.awareness, delta, this.#config.awarenessMaxMultiplier);
  }

  #advanceOpen(now: number, candidates: ProbeCandidates, sends: MembershipOutput[]): NodeId | undefined {
    const p = this.#open;
    if (p === undefined) return undefined;
    if (!p.acked && !p.indirectSent && now >= p.startedAt + p.timeoutMs) {
      p.indirectSent = true;
      // Alongside the indirect probes, one direct ping over the reliable stream: packet loss
      // alone (which the stream survives) must not make a live member suspect.
      sends.push({ type: 'send', to: p.target, message: { kind: 'ping', probeSeq: p.seq, target: p.target }, reliable: true });
      const pool = candidates.helpers().filter((id) => id !== p.target);
      for (const helper of sample(this.#random, pool, this.#config.indirectChecks)) {
        sends.push({ type: 'send', to: helper, message: { kind: 'ping-req', probeSeq: p.seq, target: p.target } });
        this.#counters.indirectProbes++;
      }
      p.endsAt = Math.max(p.endsAt, now + p.intervalMs - p.timeoutMs);
    }
    if (now < p.endsAt) return undefined;
    this.#open = undefined;
    this.adjustAwareness(p.acked ? AWARENESS_DELTA.probeAcked : AWARENESS_DELTA.probeFailed);
    return p.acked ? undefined : p.target;
  }

  #start(now: number, candidates: ProbeCandidates, sends: MembershipOutput[]): void {
    const intervalMs = scaleByAwareness(this.#config.probeIntervalMs, this.#counters.awareness);
    const timeoutMs = scaleByAwareness(this.#config.probeTimeoutMs, this.#counters.awareness);
    // Keep the cadence when ticks are a little late; restart it when they are very late.
    this.#nextProbeAt += intervalMs;
    if (this.#nextProbeAt <= now) this.#nextProbeAt = now + intervalMs;
    const { target, next } = nextRoundRobin(this.#roundRobin, candidates.targets(), this.#random);
    this.#roundRobin = next;
    if (target === undefined) return;
    const seq = this.#nextSeq();
    this.#open = { seq, target, startedAt: now, intervalMs, timeoutMs, endsAt: now + intervalMs, indirectSent: false, acked: false };
    sends.push({ type: 'send', to: target, message: { kind: 'ping', probeSeq: seq, target } });
    this.#counters.probesSent++;
  }

  #nextSeq(): number {
    this.#seq = this.#seq >= Number.MAX_SAFE_INTEGER ? 0 : this.#seq + 1;
    return this.#seq;
  }

  /**
   * A ping to `to` that is not a probe (its ack matches nothing): it exists to carry our
   * piggyback to a member whose view of us is stale.
   */
  nudge(to: NodeId): MembershipOutput {
    return { type: 'send', to, message: { kind: 'ping', probeSeq: this.#nextSeq(), target: to } };
  }

  /** Handles one well-formed probe message from `from`, returning the sends it calls for. */
  handle(from: NodeId, message: ProbeMessage, now: number): MembershipOutput[] {
    switch (message.kind) {
      case 'ping':
        // A ping meant for another node (a stale address) gets no answer, as in memberlist.
        return message.target === this.#self ? [this.#ack(from, message.probeSeq)] : [];
      case 'ping-req':
        return this.#relay(from, message, now);
      case 'ack':
        return this.#onAck(message);
    }
  }

  #ack(to: NodeId, probeSeq: number): MembershipOutput {
    return { type: 'send', to, message: { kind: 'ack', probeSeq, target: this.#self } };
  }

  #relay(from: NodeId, message: ProbeMessage, now: number): MembershipOutput[] {
    if (message.target === this.#self) return [this.#ack(from, message.probeSeq)];
    if (this.#relays.size >= MAX_RELAYS) {
      this.#counters.droppedRelays++;
      return [];
    }
    const seq = this.#nextSeq();
    this.#relays.set(seq, { requester: from, requesterSeq: message.probeSeq, target: message.target, expiresAt: now + this.#config.probeTimeoutMs });
    this.#counters.relayedProbes++;
    return [{ type: 'send', to: message.target, message: { kind: 'ping', probeSeq: seq, target: message.target } }];
  }

  #onAck(message: ProbeMessage): MembershipOutput[] {
    const p = this.#open;
    if (p !== undefined && p.seq === message.probeSeq && p.target === message.target) {
      p.acked = true;
      return [];
    }
    const relay = this.#relays.get(message.probeSeq);
    if (relay === undefined || relay.target !== message.target) return [];
    this.#relays.delete(message.probeSeq);
    return [{ type: 'send', to: relay.requester, message: { kind: 'ack', probeSeq: relay.requesterSeq, target: relay.target } }];
  }
}
