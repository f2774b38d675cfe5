import { compareTs, type Timestamp } from '../core/hlc.ts';
import type { NodeId } from '../core/ids.ts';
import { ChangeSet } from './changes.ts';
import { joinCollected, NOTHING_COLLECTED, parseCollected, unseenFloors, type Collected } from './collected.ts';
import { isVisible, type Entry, type ObjState } from './entry.ts';
import { OBJECT_FIELD, TOMBSTONE, type StoreRecord } from './record.ts';
import { Replica } from './replica.ts';
import type { Digest, JournalEntry, WriteResult } from './types.ts';

/**
 * A replica's upkeep (decision 0006): tombstone collection and what it forgot, verifying held
 * records after missing a collected deletion, and keeping our own seqs unique across crashes
 * and restores (durability of own writes, the own-seq floor, renumbering).
 *
 * Invariants:
 * 1. `collected.floors[o]` is the highest seq of origin o collected here; `collected.horizon`
 *    the highest stamp; both only grow.
 * 2. Our next write's seq is above `ownSeqFloor`, which is at least every seq of ours held,
 *    loaded, or reported held by a peer.
 * 3. No own record above `durableOwn` (when tracked) leaves through deltas or snapshots.
 */
export abstract class MaintainedReplica extends Replica {
  /** Our own highest seq known committed to storage; undefined when durability is not tracked. */
  protected durableOwn: number | undefined;

  /** The highest seq of ours known to exist anywhere (issued here, loaded, or held by a peer): new writes go above it. */
  protected ownSeqFloor = 0;

  /** Origins whose watermark went down (renumberOwn): storage must lower, not raise, them. */
  protected readonly loweredOrigins = new Set<NodeId>();

  /** What tombstone collection has forgotten (see Collected). */
  protected collected: Collected = NOTHING_COLLECTED;

  protected collectedMoved = false;

  /** While our numbering is unverified (see holdOwn): our seqs above this stay here. */
  protected ownHoldAt: number | undefined;

  /** While our numbering is unverified: the seqs this process stamped. */
  protected ownIssued: Set<number> | undefined;

  /**
   * Until `releaseOwn`, our records above our current last seq never leave (deltas, snapshots)
   * and the seqs we stamp are remembered: after a restore they may collide with writes a peer
   * holds, and `renumberOwn` moves them (see OwnSeq).
   */
  holdOwn(): void {
    this.ownHoldAt = this.ownSeqFloor;
    this.ownIssued = new Set();
  }

  /** Our numbering is verified: our records may leave again once committed. */
  releaseOwn(): void {
    this.ownHoldAt = undefined;
    this.ownIssued = undefined;
  }

  /** The seqs stamped here since `holdOwn` that we still hold, ascending. */
  ownIssuedSeqs(): number[] {
    const live = this.logs.get(this.nodeId)?.live;
    return [...(this.ownIssued ?? [])].filter((s) => live?.has(s) === true).sort((a, b) => a - b);
  }

  /**
   * Starts tracking which of our own writes are committed (call once a durable mirror is
   * attached and loaded): from then on our records above `markDurable`'s seq never leave
   * through `deltasFor` or snapshots, so a crash cannot make us reuse a seq a peer holds.
   */
  trackDurability(): void {
    this.durableOwn = this.ownSeqFloor;
  }

  /** Our own writes up to `seq` (a `lastOwnSeq()` read when their batch was submitted) are committed to storage. */
  markDurable(seq: number): void {
    if (this.durableOwn !== undefined) this.durableOwn = Math.max(this.durableOwn, Math.min(seq, this.ownSeqFloor));
  }

  /** The highest own seq that may leave this replica (every one when durability is not tracked). */
  durableOwnSeq(): number {
    return Math.min(this.durableOwn ?? this.ownSeqFloor, this.ownHoldAt ?? Number.POSITIVE_INFINITY);
  }

  /** The highest seq of ours known to exist: our next write takes the one after it. */
  lastOwnSeq(): number {
    return this.ownSeqFloor;
  }

  /** A peer holds our writes up to `seq` (we were restored from an older copy): continue above them, never reuse one. */
  raiseOwnSeqFloor(seq: number): void {
    if (Number.isSafeInteger(seq) && seq > this.ownSeqFloor) this.ownSeqFloor = seq;
  }

  /**
   * Drops tombstones stamped more than `tombstoneTtlMs` before `nowMs` (wall time) whose
   * (origin, seq) `coveredBy` covers — the running node passes the lowest digest of its live
   * members, so a tombstone goes only once every member holds it. Without `coveredBy` the TTL
   * alone decides. Records what was forgotten (`collectedState`). Returns the registers dropped.
   */
  collectGarbage(nowMs: number, coveredBy?: Readonly<Record<string, number>>): JournalEntry[] {
    const horizon = nowMs - this.options.tombstoneTtlMs;
    const dropped: JournalEntry[] = [];
    let latest = this.collected.horizon;
    const floors: Digest = { ...this.collected.floors };
    for (const e of [...this.tombstones]) {
      const r = e.rec;
      if (r.ts.ms >= horizon || (coveredBy !== undefined && (coveredBy[r.origin] ?? 0) < r.seq)) continue;
      const o = this.objects.get(r.objectId);
      if (o === undefined) continue;
      if (r.field === OBJECT_FIELD) o.obj = undefined;
      else o.fields.delete(r.field);
      this.unhold(e);
      this.dropIfEmpty(r.objectId, o, false);
      dropped.push({ op: 'drop', objectId: r.objectId, field: r.field });
      if (compareTs(r.ts, latest) > 0) latest = r.ts;
      floors[r.origin] = Math.max(r.seq, floors[r.origin] ?? 0);
    }
    if (dropped.length === 0) return dropped;
    this.collected = { horizon: latest, floors };
    this.collectedMoved = true;
    this.journalSink?.(dropped);
    return dropped;
  }

  /** What collection has forgotten here: the horizon and per-origin floors peers compare with. */
  collectedState(): Collected {
    return this.collected;
  }

  /** The collected state, if it changed since the last call (what storage must keep), then forgets that it did. */
  takeCollectedChange(): Collected | undefined {
    if (!this.collectedMoved) return undefined;
    this.collectedMoved = false;
    return this.collected;
  }

  /**
   * Takes on what a snapshot server forgot, when its covers are adopted: our watermarks now
   * claim its collected ranges too, so peers must compare with its floors through ours (a
   * peer that missed those deletions must verify itself against us as it would against it).
   */
  adoptCollected(peer: Collected): void {
    const joined = joinCollected(this.collected, peer);
    if (compareTs(joined.horizon, this.collected.horizon) === 0 && unseenFloors(this.collected.floors, joined.floors).length === 0) return;
    this.collected = joined;
    this.collectedMoved = true;
  }

  /** Restores the collected state kept in storage (ignored unless well-formed). */
  restoreCollected(stored: unknown): void {
    const c = parseCollected(stored);
    if (c !== undefined) this.collected = joinCollected(this.collected, c);
  }

  /**
   * Origins for which a peer forgot a tombstone we never saw (its floor is above our
   * watermark). Non-empty means our records may include objects deleted there: verify them
   * against the peer's snapshot (`reconcileStale`) before trusting its covers.
   */
  unseenCollected(peer: Collected): string[] {
    const d: Record<string, number> = {};
    for (const origin of Object.keys(peer.floors)) d[origin] = this.watermark(origin);
    return unseenFloors(d, peer.floors);
  }

  /**
   * After a snapshot from a peer that forgot deletions we never saw: drops every held record
   * the snapshot did not confirm (`confirmed` false) and nobody wrote after `since`, when the
   * server had seen it (seq within `serverStart`: it lost there) or when it is a value no newer
   * than the server's collection `horizon` (it may belong to an object whose deletion was
   * forgotten: returned in `stale`, for the caller to report; a tombstone is always kept, it
   * cannot bring anything back). Everything else is kept for the server to learn. Watermarks
   * stay: what was dropped counts as superseded.
   */
  reconcileStale(confirmed: (r: StoreRecord) => boolean, serverStart: Readonly<Record<string, number>>, horizon: Timestamp, since: Timestamp): WriteResult & { stale: StoreRecord[] } {
    const stale: StoreRecord[] = [];
    const drop = (r: StoreRecord): boolean => {
      if (confirmed(r) || compareTs(r.ts, since) > 0) return false;
      if (r.seq <= (serverStart[r.origin] ?? 0)) return true;
      // A deletion never brings anything back: only a value can belong to a forgotten deletion.
      if (r.value === TOMBSTONE || compareTs(r.ts, horizon) > 0) return false;
      stale.push(r);
      return true;
    };
    const changes = new ChangeSet();
    const journal: JournalEntry[] = [];
    for (const [id, o] of [...this.objects]) {
      const wasVisible = isVisible(o);
      if (o.obj !== undefined && drop(o.obj.rec)) {
        this.unhold(o.obj);
        o.obj = undefined;
        journal.push({ op: 'drop', objectId: id, field: OBJECT_FIELD });
      }
      for (const [name, f] of [...o.fields]) {
        if (!drop(f.rec)) continue;
        o.fields.delete(name);
        this.unhold(f);
        journal.push({ op: 'drop', objectId: id, field: name });
        if (f.rec.value !== TOMBSTONE) {
          o.visibleFields--;
          changes.removed(f.rec, name);
        }
      }
      const nowVisible = isVisible(o);
      if (wasVisible && !nowVisible) {
        this.visibleObjects--;
        changes.visibility({ objectId: id, field: OBJECT_FIELD, value: TOMBSTONE, ts: this.hlc.peek(), origin: this.nodeId, seq: 0 }, false);
      }
      this.dropIfEmpty(id, o, false);
    }
    if (journal.length > 0) this.journalSink?.(journal);
    return { records: [], changes: changes.list(), journal, stale };
  }

  /**
   * We were restored from an older copy and peers hold our writes up to `floor`: moves our
   * records at `seqs` (stamped since the start, colliding with the peers') to fresh seqs above
   * `floor`, same stamps, so nothing reuses a number a peer holds. Our watermark goes back
   * below the first of them until the peers' records arrive. Returns new records by old seq.
   */
    renumberOwn(seqs: readonly number[], floor: number): Map<number, StoreRecord> {
    const log = this.log(this.nodeId);
    const moved = new Map<number, StoreRecord>();
    this.raiseOwnSeqFloor(floor);
    const victims = seqs.flatMap((s): [number, Entry][] => {
      const e = log.live.get(s);
      return e === undefined ? [] : [[s, e]];
    });
    const first = victims[0]?.[0];
    if (first === undefined) return moved;
    const after = Math.min(log.watermark, first - 1);
    const journal: JournalEntry[] = [];
    for (const [seq, e] of victims) {
      const rec: StoreRecord = { ...e.rec, seq: ++this.ownSeqFloor };
      const o = this.objects.get(rec.objectId) as ObjState;
      const entry: Entry = { rec, bytes: e.bytes };
      this.unhold(e);
      if (rec.field === OBJECT_FIELD) o.obj = entry;
      else o.fields.set(rec.field, entry);
      this.hold(entry);
      journal.push({ op: 'put', record: rec });
      moved.set(seq, rec);
    }
    log.resetTo(after, [...log.live.keys()]);
    this.loweredOrigins.add(this.nodeId);
    this.movedOrigins.add(this.nodeId);
    if (this.durableOwn !== undefined) this.durableOwn = Math.min(this.durableOwn, after);
    this.journalSink?.(journal);
    return moved;
  }

  /** Origins whose watermark went down since the last call, with the new values (storage must set them exactly), or undefined. */
  takeLoweredWatermarks(): Digest | undefined {
    if (this.loweredOrigins.size === 0) return undefined;
    const d: Digest = {};
    for (const origin of this.loweredOrigins) d[origin] = this.watermark(origin);
    this.loweredOrigins.clear();
    return d;
  }
}
