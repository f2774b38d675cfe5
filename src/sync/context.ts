import type { NodeId } from '../core/ids.ts';
import type { Random } from '../core/random.ts';
import type { Membership } from '../membership/membership.ts';
import type { MembershipOutput, ProbeMessage } from '../membership/messages.ts';
import type { BatchLimits } from '../store/limits.ts';
import { tupleToRecord } from '../store/record-codec.ts';
import type { Collected } from '../store/collected.ts';
import type { StoreRecord } from '../store/record.ts';
import type { Cover, MergeResult, Store } from '../store/store.ts';
import type { SyncConfig } from './config.ts';
import { Counters } from './counters.ts';
import type { Channel, EngineEvent, Outbound } from './events.ts';
import { MessageType, SENT_COUNTER, type Message, type MessageBody, type RecordTuple } from './messages.ts';
import { PeerSet } from './peers.ts';

/** Most transport addresses remembered for nodes whose member record has none. */
export const MAX_LEARNED_ADDRESSES = 65_536;

/** A membership status change. */
export type StatusOutput = Extract<MembershipOutput, { type: 'status' }>;

const PROBE_TYPES = { ping: MessageType.PING, 'ping-req': MessageType.PING_REQ, ack: MessageType.PING_ACK } as const;

/** Constructor arguments of a SyncContext. */
export interface SyncContextInit {
  readonly nodeId: NodeId;
  readonly mesh: string;
  readonly bootNonce: string;
  readonly selfAddress: string;
  readonly store: Store;
  readonly membership: Membership;
  readonly config: SyncConfig;
  readonly random: Random;
}

/**
 * The state every sync handler shares: identity, the cores, the alive-peer set, counters,
 * events and the outbox of the call in progress. Handlers append to `out`; the Engine hands
 * it to its caller.
 *
 * Invariants:
 * 1. `peers` holds exactly the members the membership core last reported 'alive', never us.
 * 2. Every message leaves through `sendTo`, which stamps `from`, piggybacks gossip and counts it.
 * 3. Every merge goes through `merge`, which emits one 'change' event per merge with changes.
 */
export class SyncContext {
  readonly nodeId: NodeId;
  readonly mesh: string;
  readonly bootNonce: string;
  selfAddress: string;
  readonly store: Store;
  readonly membership: Membership;
  readonly config: SyncConfig;
  readonly random: Random;
  readonly limits: BatchLimits;
  readonly peers = new PeerSet();
  readonly counters = new Counters();
  events: EngineEvent[] = [];
  out: Outbound[] = [];
  /** The `now` of the call in progress. */
  now = 0;
  readonly #learned = new Map<NodeId, string>();
  readonly #goneListeners: ((id: NodeId) => void)[] = [];
  readonly #statusListeners: ((o: StatusOutput) => void)[] = [];
  readonly #mergeListeners: ((records: readonly StoreRecord[]) => void)[] = [];
  readonly #staleListeners: ((peer: NodeId, collected: Collected) => void)[] = [];
  /**
   * Whether our own seq numbering is confirmed safe: a peer's digest has shown how far it
   * holds our writes (see OwnSeq). Until then our local writes are not pushed.
   */
  ownVerified = true;

  constructor(init: SyncContextInit) {
    this.nodeId = init.nodeId;
    this.mesh = init.mesh;
    this.bootNonce = init.bootNonce;
    this.selfAddress = init.selfAddress;
    this.store = init.store;
    this.membership = init.membership;
    this.config = init.config;
    this.random = init.random;
    this.limits = { maxRecords: init.config.maxBatchRecords, maxBytes: init.config.maxBatchBytes };
  }

  /** Calls `listener` whenever a peer stops being alive (suspect, dead, left, removed). */
  onPeerGone(listener: (id: NodeId) => void): void {
    this.#goneListeners.push(listener);
  }

  /** Calls `listener` for every status change the membership core reports about another node. */
  onStatus(listener: (o: StatusOutput) => void): void {
    this.#statusListeners.push(listener);
  }

  /** Calls `listener` with the records every merge applied. */
  onMerged(listener: (records: readonly StoreRecord[]) => void): void {
    this.#mergeListeners.push(listener);
  }

  /** Calls `listener` when a peer turns out to have forgotten deletions we never saw. */
  onStale(listener: (peer: NodeId, collected: Collected) => void): void {
    this.#staleListeners.push(listener);
  }

  /**
   * Checks a peer's collected state against our watermarks; when the peer forgot deletions
   * we never saw, tells the listeners (the Bootstrap verifies us) and returns true: the
   * caller then takes no covers from that message.
   */
  staleAgainst(peer: NodeId, collected: Collected | undefined): boolean {
    if (collected === undefined || this.store.unseenCollected(collected).length === 0) return false;
    for (const f of this.#staleListeners) f(peer, collected);
    return true;
  }

  /** Where to reach `id`: its member record's first address, else where its HELLO came from. */
  addressOf(id: NodeId): string | undefined {
    const m = this.membership.get(id);
    const host = m?.addresses[0];
    if (m !== undefined && host !== undefined) return `${host}:${m.port}`;
    return this.#learned.get(id);
  }

  /** Notes the transport address a peer spoke from (never ours). */
  learnAddress(id: NodeId, address: string): void {
    if (id === this.nodeId || address === this.selfAddress) return;
    // Bounded: senders choose their ids. The oldest entry goes; a member record usually replaces it anyway.
    if (this.#learned.size >= MAX_LEARNED_ADDRESSES && !this.#learned.has(id)) this.#learned.delete(this.#learned.keys().next().value as NodeId);
    this.#learned.set(id, address);
  }

  /** Sends to a node by id; counts `unreachable` and returns false when its address is unknown. */
  send(to: NodeId, body: MessageBody, channel: Channel): boolean {
    const address = this.addressOf(to);
    if (address === undefined) {
      this.counters.inc('unreachable');
      return false;
    }
    this.sendTo(address, body, channel);
    return true;
  }

  /**
   * Sends to a transport address, stamping `from` and piggybacking membership updates;
   * `claims` are member records sent ahead of the piggyback (see Handshake's claims).
   */
  sendTo(address: string, body: MessageBody, channel: Channel, piggyback = true, claims: readonly unknown[] = []): void {
    const max = piggyback ? this.config.gossipPerMessage : 0;
    const piggy = max > 0 ? this.membership.piggyback(max) : [];
    const gossip = claims.length > 0 ? [...claims, ...piggy] : piggy;
    const message = (gossip.length > 0 ? { ...body, from: this.nodeId, gossip } : { ...body, from: this.nodeId }) as Message;
    this.out.push({ to: address, message, channel });
    this.counters.inc(SENT_COUNTER[message.t] as string);
  }

  /** Counts a dropped inbound message and reports it as an event. */
  drop(reason: string, from: string): void {
    this.counters.inc(`dropped:${reason}`);
    this.events.push({ type: 'dropped', reason, from });
  }

  /** Carries out what the membership core asked for: probe sends, status bookkeeping, alarms, generation raises. */
  applyMembership(outputs: readonly MembershipOutput[], answerReliably = false): void {
    for (const o of outputs) {
      if (o.type === 'send') {
        const reliable = o.reliable === true || (answerReliably && o.message.kind === 'ack');
        this.send(o.to, probeBody(o.message, o.reliable === true), reliable ? 'stream' : 'packet');
      }
      else if (o.type === 'status') this.#status(o);
      else if (o.type === 'generation') this.events.push({ type: 'generation', previous: o.previous, generation: o.generation });
      else {
        this.counters.inc('duplicateIdentity');
        this.events.push({ type: 'duplicate-identity', nodeId: o.nodeId, bootNonce: o.bootNonce });
      }
    }
  }

  #status(o: StatusOutput): void {
    this.events.push({ type: 'member', nodeId: o.nodeId, previous: o.previous, status: o.status, member: o.member });
    if (o.nodeId === this.nodeId) return;
    for (const f of this.#statusListeners) f(o);
    if (o.status === 'alive') {
      this.peers.add(o.nodeId);
      return;
    }
    if (o.status === 'removed') this.#learned.delete(o.nodeId);
    if (this.peers.delete(o.nodeId) || o.status === 'removed') for (const f of this.#goneListeners) f(o.nodeId);
  }

  /** Merges record tuples from a peer, counting what was applied and refused. */
  merge(tuples: readonly RecordTuple[], covers: readonly Cover[] = []): MergeResult {
    const result = this.store.merge(tuples.map(tupleToRecord), covers);
    this.counters.inc('recordsApplied', result.records.length);
    if (result.records.length > 0) for (const f of this.#mergeListeners) f(result.records);
    if (result.conflicts.length > 0) {
      this.counters.inc('seqConflicts', result.conflicts.length);
      this.events.push({ type: 'records-dropped', reason: 'seq-conflict', records: result.conflicts });
    }
    let rejected = 0;
    for (const n of Object.values(result.rejected)) rejected += n;
    if (rejected > 0) this.counters.inc('recordsRejected', rejected);
    if (result.changes.length > 0) this.events.push({ type: 'change', changes: result.changes, origin: 'remote' });
    return result;
  }
}

/** The wire body of a probe message. */
export function probeBody(p: ProbeMessage, reliable = false): MessageBody {
  const body = { t: PROBE_TYPES[p.kind], probeSeq: p.probeSeq, target: p.target };
  return reliable ? { ...body, reliable } : body;
}

/** The probe message a PING / PING_REQ / PING_ACK carries. */
export function probeOf(m: Extract<Message, { t: 7 | 8 | 9 }>): ProbeMessage {
  const kind = m.t === MessageType.PING ? 'ping' : m.t === MessageType.PING_REQ ? 'ping-req' : 'ack';
  return { kind, probeSeq: m.probeSeq, target: m.target };
}
