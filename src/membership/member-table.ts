import type { NodeId } from '../core/ids.ts';
import type { BroadcastQueue } from './broadcast-queue.ts';
import type { MembershipConfig } from './config.ts';
import type { MembershipCounters } from './counters.ts';
import { versionOf, withStatus, type MemberVersion } from './freshness.ts';
import { idListsOf, membershipProblems } from './invariants.ts';
import type { MemberRecord } from './member.ts';
import type { MembershipOutput } from './messages.ts';
import { expectedConfirmations, Suspicion, suspicionBounds } from './suspicion.ts';

/** What Membership holds about one other member. */
export interface Entry {
  record: MemberRecord;
  /** When the current status began (reaping counts from here). */
  since: number;
  /** Running iff status is suspect (invariant 5). */
  suspicion: Suspicion | undefined;
}

/**
 * The other members as Membership holds them, with the bookkeeping every change it decides
 * needs: suspicion timers (Membership's invariant 5), tombstones (6), one status output and
 * a piggyback entry per change (7), the set of watched (not alive) ids and the cached id
 * lists. It decides nothing: Membership's `#evaluate` calls `commit`, `confirm` and `reap`.
 */
export class MemberTable {
  readonly #entries = new Map<NodeId, Entry>();
  /** Entries that are not alive: the only ones with timers. */
  readonly #watched = new Set<NodeId>();
  readonly #tombstones = new Map<NodeId, MemberVersion>();
  /** Sorted id lists by status class, rebuilt only after a member appears, changes status or goes. */
  #idLists: { live: NodeId[]; alive: NodeId[] } | undefined;

  readonly #config: MembershipConfig;
  readonly #queue: BroadcastQueue;
  readonly #counters: MembershipCounters;
  readonly #emit: (o: MembershipOutput) => void;

  /** An empty table whose changes are queued on `queue`, counted in `counters` and reported through `emit`. */
  constructor(config: MembershipConfig, queue: BroadcastQueue, counters: MembershipCounters, emit: (o: MembershipOutput) => void) {
    this.#config = config;
    this.#queue = queue;
    this.#counters = counters;
    this.#emit = emit;
  }

  /** The entry of `id`, if we hold one. */
  get(id: NodeId): Entry | undefined {
    return this.#entries.get(id);
  }

  /** The version a reaped member left behind, if any. */
  tombstone(id: NodeId): MemberVersion | undefined {
    return this.#tombstones.get(id);
  }

  /** How many members we hold (ourselves not included). */
  get size(): number {
    return this.#entries.size;
  }

  /** The records we hold, unsorted. */
  records(): MemberRecord[] {
    return [...this.#entries.values()].map((e) => e.record);
  }

  /** The ids of members that are not alive (a copy: timers may change the set). */
  watched(): NodeId[] {
    return [...this.#watched];
  }

  /** Sorted ids of `live` (alive or suspect) or `alive` members; the same array until a status changes. */
  ids(which: 'live' | 'alive'): readonly NodeId[] {
    this.#idLists ??= idListsOf(this.#entries);
    return this.#idLists[which];
  }

  /** The earliest suspicion expiry or reap among watched members (Infinity when none). */
  nextDeadline(): number {
    let at = Number.POSITIVE_INFINITY;
    for (const id of this.#watched) {
      const e = this.#entries.get(id);
      if (e === undefined) continue;
      const s = e.record.status;
      // remaining(t) = timeout − (t − start), so the deadline is start + remaining(start).
      if (s === 'suspect' && e.suspicion !== undefined) at = Math.min(at, e.suspicion.startedAt + e.suspicion.remaining(e.suspicion.startedAt));
      else if (s === 'dead' || s === 'left') at = Math.min(at, e.since + this.#config.reapTimeoutMs);
    }
    return at;
  }

  /** Invariants 5 and 7: store `next` (as a new entry if `entry` is undefined), keep the suspicion timer in step, report, queue. */
  commit(entry: Entry | undefined, next: MemberRecord, suspecter: NodeId | undefined, now: number): void {
    const previous = entry?.record.status ?? 'unknown';
    const e = entry ?? this.#insert(next, now);
    e.record = next;
    if (previous !== next.status) {
      this.#idLists = undefined;
      e.since = now;
      if (next.status === 'suspect') this.#counters.suspicions++;
      if (next.status === 'dead') this.#counters.deaths++;
      this.#emit({ type: 'status', nodeId: next.nodeId, previous, status: next.status, member: next });
    }
    if (next.status !== 'suspect') e.suspicion = undefined;
    else if (e.suspicion !== undefined) e.suspicion.confirm(suspecter);
    else e.suspicion = this.#newSuspicion(now, suspecter);
    if (next.status === 'alive') this.#watched.delete(next.nodeId);
    else this.#watched.add(next.nodeId);
    this.#queue.enqueue(next.nodeId);
  }

  /** Invariant 5: counts an independent confirmation and, if it is new, passes it on. */
  confirm(entry: Entry, suspecter: NodeId | undefined): void {
    if (entry.suspicion?.confirm(suspecter) !== true) return;
    entry.record = withStatus(entry.record, 'suspect', suspecter);
    this.#queue.enqueue(entry.record.nodeId);
  }

  /** Invariant 6: forget a dead or left member, keeping its version as a tombstone. */
  reap(entry: Entry): void {
    const { record } = entry;
    this.#entries.delete(record.nodeId);
    this.#idLists = undefined;
    this.#watched.delete(record.nodeId);
    this.#tombstones.set(record.nodeId, versionOf(record));
    this.#queue.remove(record.nodeId);
    this.#counters.reaped++;
    this.#emit({ type: 'status', nodeId: record.nodeId, previous: record.status, status: 'removed', member: record });
  }

  /** What membershipProblems finds wrong with this table and the given own record. */
  problems(selfId: NodeId, self: MemberRecord): string[] {
    return membershipProblems({
      selfId,
      self,
      entries: this.#entries,
      watched: this.#watched,
      tombstones: this.#tombstones,
      idLists: this.#idLists,
      awareness: this.#counters.awareness,
      awarenessMaxMultiplier: this.#config.awarenessMaxMultiplier,
    });
  }

  #insert(record: MemberRecord, now: number): Entry {
    const entry: Entry = { record, since: now, suspicion: undefined };
    this.#entries.set(record.nodeId, entry);
    this.#idLists = undefined;
    this.#tombstones.delete(record.nodeId);
    return entry;
  }

  #newSuspicion(now: number, suspecter: NodeId | undefined): Suspicion {
    const n = this.#entries.size + 1;
    const k = expectedConfirmations(this.#config.suspicionMult, n);
    return new Suspicion(now, k, suspicionBounds(this.#config, n), suspecter);
  }
}
