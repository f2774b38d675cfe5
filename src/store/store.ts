import { ChorusError, ErrorCode, isChorusError } from '../core/errors.ts';
import { compareTs, HybridClock, type Timestamp } from '../core/hlc.ts';
import { isNodeId, parseObjectId, type NodeId, type ObjectId } from '../core/ids.ts';
import { measureJson, type Json, type JsonLimits } from '../core/json.ts';
import { ChangeSet } from './changes.ts';
import { resolveStoreOptions, UNLIMITED_BATCH, type BatchLimits, type StoreOptions } from './limits.ts';
import { joinCollected, NOTHING_COLLECTED, parseCollected, unseenFloors, type Collected } from './collected.ts';
import { isVisible, type Entry, type ObjState } from './entry.ts';
import { checkStoreInvariants } from './invariants.ts';
import { OriginLog } from './origin-log.ts';
import { assertFieldName, checkRecord, compareRecords, OBJECT_FIELD, recordBytes, TOMBSTONE, type StoreRecord } from './record.ts';
import type { Digest, Cover, DeltaBatch, JournalEntry, WriteResult, MergeResult, SnapshotChunk, StoreStats, StoreInit } from './types.ts';

export type { Digest, Cover, DeltaBatch, JournalEntry, WriteResult, MergeResult, SnapshotChunk, StoreStats, StoreInit } from './types.ts';


/**
 * A replica of the shared objects. Each top-level field is a last-writer-wins register; an
 * object-level record (reset or delete) clears every field record older than it.
 *
 * Invariants:
 * 1. Every record held wins its register: a field record beats its object's object-level
 *    record; at most one record per (object, field). Superseded records are dropped at once,
 *    so the state grows with live fields, never with the number of writes.
 * 2. Every held record is in its origin's log under its seq, and nowhere else.
 * 3. An object is visible when it has a visible field or its object-level record is a reset.
 * 4. Counters (`stats`) equal what a full scan would count.
 */
export class Store {
  readonly nodeId: NodeId;
  readonly hlc: HybridClock;
  readonly options: StoreOptions;
  private readonly limits: JsonLimits;
  private readonly objects = new Map<ObjectId, ObjState>();
  private readonly logs = new Map<NodeId, OriginLog<Entry>>();
  private readonly tombstones = new Set<Entry>();
  private sortedIds: ObjectId[] | null = null;
  private visibleObjects = 0;
  private liveFields = 0;
  private bytes = 0;
  private readonly rejectedTotals: Partial<Record<ErrorCode, number>> = {};
  /** Records refused because another record holds their (origin, seq). */
  private seqConflicts = 0;
  private journalSink: ((journal: readonly JournalEntry[]) => void) | undefined;
  /** Origins whose watermark moved since `takeMovedWatermarks` last ran. */
  private readonly movedOrigins = new Set<NodeId>();
  /** Our own highest seq known committed to storage; undefined when durability is not tracked. */
  private durableOwn: number | undefined;
  /** The highest seq of ours known to exist anywhere (issued here, loaded, or held by a peer): new writes go above it. */
  private ownSeqFloor = 0;
  /** Origins whose watermark went down (renumberOwn): storage must lower, not raise, them. */
  private readonly loweredOrigins = new Set<NodeId>();
  /** What tombstone collection has forgotten (see Collected). */
  private collected: Collected = NOTHING_COLLECTED;
  private collectedMoved = false;
  /** Origins whose id already passed validation. */
  private readonly knownOrigins = new Set<string>();

  constructor(init: StoreInit) {
    if (!isNodeId(init.nodeId)) throw new ChorusError(ErrorCode.InvalidNodeId, `store node id ${JSON.stringify(init.nodeId)} is not a node id`);
    this.nodeId = init.nodeId;
    this.options = resolveStoreOptions(init.options);
    this.hlc = new HybridClock(init.clock, { monotonic: init.monotonic, maxDriftMs: this.options.maxDriftMs });
    this.limits = { maxDepth: this.options.maxDepth, maxBytes: this.options.maxFieldBytes };
  }

  /**
   * Registers the one durable mirror of this store: after every local write, merge and garbage
   * collection it receives the journal (possibly empty when only watermarks moved), synchronously,
   * before the call returns.
   */
  attachJournal(sink: (journal: readonly JournalEntry[]) => void): void {
    this.journalSink = sink;
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
    return this.durableOwn ?? this.ownSeqFloor;
  }

  /** The highest seq of ours known to exist: our next write takes the one after it. */
  lastOwnSeq(): number {
    return this.ownSeqFloor;
  }

  /** A peer holds our writes up to `seq` (we were restored from an older copy): continue above them, never reuse one. */
  raiseOwnSeqFloor(seq: number): void {
    if (Number.isSafeInteger(seq) && seq > this.ownSeqFloor) this.ownSeqFloor = seq;
  }

  // ---- local writes -------------------------------------------------------------------

  /** Replaces an object with exactly `fields`, creating it if needed. */
  put(id: string, fields: unknown): WriteResult {
    const oid = parseObjectId(id);
    const sizes = this.checkFields(fields, true);
    const ts = this.hlc.now();
    const recs: StoreRecord[] = [this.stamp(oid, OBJECT_FIELD, null, ts)];
    for (const [name, value] of Object.entries(fields as Record<string, Json>)) recs.push(this.stamp(oid, name, value, ts));
    return this.applyLocal(recs, [1, ...sizes]);
  }

  /** Writes the given fields, leaving the others as they are. */
  patch(id: string, fields: unknown): WriteResult {
    const oid = parseObjectId(id);
    const sizes = this.checkFields(fields, false);
    const ts = this.hlc.now();
    const recs = Object.entries(fields as Record<string, Json>).map(([name, value]) => this.stamp(oid, name, value, ts));
    return this.applyLocal(recs, sizes);
  }

  /** Deletes one field of an object. */
  deleteField(id: string, field: string): WriteResult {
    const oid = parseObjectId(id);
    assertFieldName(field);
    return this.applyLocal([this.stamp(oid, field, TOMBSTONE, this.hlc.now())], [1]);
  }

  /** Deletes an object and all its fields. */
  deleteObject(id: string): WriteResult {
    const oid = parseObjectId(id);
    return this.applyLocal([this.stamp(oid, OBJECT_FIELD, TOMBSTONE, this.hlc.now())], [1]);
  }

  private checkFields(fields: unknown, allowEmpty: boolean): number[] {
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      throw new ChorusError(ErrorCode.InvalidFields, `fields must be a JSON object, got ${Array.isArray(fields) ? 'an array' : fields === null ? 'null' : typeof fields}`);
    }
    const entries = Object.entries(fields);
    if (!allowEmpty && entries.length === 0) throw new ChorusError(ErrorCode.InvalidFields, 'a patch needs at least one field');
    return entries.map(([name, value]) => {
      assertFieldName(name);
      return measureJson(value, this.limits, `field "${name}"`);
    });
  }

  private stamp(objectId: ObjectId, field: string, value: Json | typeof TOMBSTONE, ts: Timestamp): StoreRecord {
    const log = this.log(this.nodeId);
    const seq = Math.max(log.watermark, this.ownSeqFloor) + 1;
    this.ownSeqFloor = seq;
    log.note(seq);
    this.movedOrigins.add(this.nodeId);
    return { objectId, field, value, ts, origin: this.nodeId, seq };
  }

  private applyLocal(recs: StoreRecord[], valueSizes: number[]): WriteResult {
    const changes = new ChangeSet();
    const journal: JournalEntry[] = [];
    recs.forEach((r, i) => this.apply(r, recordBytes(r.objectId, r.field, valueSizes[i] ?? 1), changes, journal));
    this.journalSink?.(journal);
    return { records: recs, changes: changes.list(), journal };
  }

  // ---- merging ------------------------------------------------------------------------

  /**
   * Applies records from a peer or from storage. Malformed records and records stamped too far
   * ahead are dropped and counted; the rest are applied. `covers` (from a DeltaBatch) lets the
   * digest advance past superseded records the sender no longer holds.
   */
  merge(records: readonly unknown[], covers: readonly Cover[] = []): MergeResult {
    return this.mergeRecords(records, covers, false);
  }

  /**
   * Restores records and watermarks from this node's own storage: like merge, but stamps are
   * trusted (a clock that went back across a restart must not refuse our own data).
   */
  load(records: readonly unknown[], digest: Readonly<Record<string, number>>): MergeResult {
    const covers = Object.entries(digest).map(([origin, to]) => ({ origin: origin as NodeId, from: 0, to }));
    return this.mergeRecords(records, covers, true);
  }

  private mergeRecords(records: readonly unknown[], covers: readonly Cover[], trusted: boolean): MergeResult {
    const changes = new ChangeSet();
    const journal: JournalEntry[] = [];
    const applied: StoreRecord[] = [];
    const rejected: Partial<Record<ErrorCode, number>> = {};
    let firstRejected: Map<string, number> | undefined; // only when something is refused
    let superseded = 0;
    const conflicts: StoreRecord[] = [];
    for (const input of records) {
      let bytes: number;
      try {
        bytes = checkRecord(input, this.limits, this.knownOrigins);
        const r = input as StoreRecord;
        // receive() refuses (CHORUS_CLOCK_DRIFT) a stamp too far ahead before changing anything.
        if (trusted) this.hlc.observeOwn(r.ts);
        else this.hlc.receive(r.ts);
      } catch (e) {
        if (!isChorusError(e)) throw e;
        rejected[e.code] = (rejected[e.code] ?? 0) + 1;
        this.rejectedTotals[e.code] = (this.rejectedTotals[e.code] ?? 0) + 1;
        const r = input as Partial<StoreRecord> | null;
        if (r && isNodeId(r.origin) && Number.isSafeInteger(r.seq)) {
          firstRejected ??= new Map();
          const prev = firstRejected.get(r.origin);
          if (prev === undefined || (r.seq as number) < prev) firstRejected.set(r.origin, r.seq as number);
        }
        continue;
      }
      const r = input as StoreRecord;
      const log = this.log(r.origin);
      const held = log.live.get(r.seq);
      if (held !== undefined && !sameRecord(held.rec, r)) {
        // A reused (origin, seq): never overwrite the record that holds it (see decision 0005).
        conflicts.push(r);
        continue;
      }
      if (r.origin === this.nodeId && r.seq > this.ownSeqFloor) this.ownSeqFloor = r.seq;
      if (log.note(r.seq)) this.movedOrigins.add(r.origin);
      if (this.apply(r, bytes, changes, journal)) applied.push(r);
      else superseded++;
    }
    for (const c of covers) {
      if (!isNodeId(c.origin) || !Number.isSafeInteger(c.from) || !Number.isSafeInteger(c.to) || c.from < 0) continue;
      // Never claim past a record we refused: the sender still holds it.
      const cap = firstRejected?.get(c.origin);
      const to = cap === undefined ? c.to : Math.min(c.to, cap - 1);
      if (this.log(c.origin).cover(c.from, to)) this.movedOrigins.add(c.origin);
      if (c.origin === this.nodeId && to > this.ownSeqFloor && this.log(c.origin).watermark >= to) this.ownSeqFloor = to;
    }
    this.seqConflicts += conflicts.length;
    if (journal.length > 0 || covers.length > 0 || applied.length > 0) this.journalSink?.(journal);
    return { records: applied, changes: changes.list(), journal, superseded, rejected, conflicts };
  }

  /** Installs `r` if it wins its register; returns whether it did. */
  private apply(r: StoreRecord, bytes: number, changes: ChangeSet, journal: JournalEntry[]): boolean {
    let o = this.objects.get(r.objectId);
    if (o === undefined) {
      o = { obj: undefined, fields: new Map(), visibleFields: 0 };
      this.objects.set(r.objectId, o);
      this.sortedIds = null;
    }
    const wasVisible = isVisible(o);
    const entry: Entry = { rec: r, bytes };
    if (r.field === OBJECT_FIELD) {
      if (o.obj !== undefined && compareRecords(r, o.obj.rec) <= 0) return this.dropIfEmpty(r.objectId, o, false);
      if (o.obj !== undefined) this.unhold(o.obj);
      o.obj = entry;
      this.hold(entry);
      journal.push({ op: 'put', record: r });
      for (const [name, f] of o.fields) {
        if (compareRecords(f.rec, r) > 0) continue;
        o.fields.delete(name);
        this.unhold(f);
        journal.push({ op: 'drop', objectId: r.objectId, field: name });
        if (f.rec.value !== TOMBSTONE) {
          o.visibleFields--;
          changes.removed(r, name);
        }
      }
    } else {
      if (o.obj !== undefined && compareRecords(r, o.obj.rec) <= 0) return this.dropIfEmpty(r.objectId, o, false);
      const old = o.fields.get(r.field);
      if (old !== undefined && compareRecords(r, old.rec) <= 0) return false;
      if (old !== undefined) {
        this.unhold(old);
        if (old.rec.value !== TOMBSTONE) o.visibleFields--;
      }
      o.fields.set(r.field, entry);
      this.hold(entry);
      journal.push({ op: 'put', record: r });
      if (r.value !== TOMBSTONE) {
        o.visibleFields++;
        changes.set(r, r.field, r.value);
      } else if (old !== undefined && old.rec.value !== TOMBSTONE) changes.removed(r, r.field);
    }
    const nowVisible = isVisible(o);
    if (nowVisible !== wasVisible) {
      this.visibleObjects += nowVisible ? 1 : -1;
      changes.visibility(r, nowVisible);
    }
    return true;
  }

  private dropIfEmpty(id: ObjectId, o: ObjState, result: boolean): boolean {
    if (o.obj === undefined && o.fields.size === 0) this.objects.delete(id);
    return result;
  }

  private hold(e: Entry): void {
    this.log(e.rec.origin).add(e.rec.seq, e);
    this.bytes += e.bytes;
    if (e.rec.value === TOMBSTONE) this.tombstones.add(e);
    else if (e.rec.field !== OBJECT_FIELD) this.liveFields++;
  }

  private unhold(e: Entry): void {
    this.log(e.rec.origin).remove(e.rec.seq);
    this.bytes -= e.bytes;
    if (e.rec.value === TOMBSTONE) this.tombstones.delete(e);
    else if (e.rec.field !== OBJECT_FIELD) this.liveFields--;
  }

  private log(origin: NodeId): OriginLog<Entry> {
    let log = this.logs.get(origin);
    if (log === undefined) {
      log = new OriginLog();
      this.logs.set(origin, log);
    }
    return log;
  }

  // ---- reconciliation -----------------------------------------------------------------

  /** `{ origin: highest seq held without gaps }` for every origin known, in origin order. */
  digest(): Digest {
    const d: Digest = {};
    for (const origin of [...this.logs.keys()].sort()) {
      const w = (this.logs.get(origin) as OriginLog<Entry>).watermark;
      if (w > 0) d[origin] = w;
    }
    return d;
  }

  /** The digest this replica may vouch for to a peer: ours capped at our committed writes (see trackDurability). */
  servableDigest(): Digest {
    const d = this.digest();
    const own = this.durableOwnSeq();
    if (this.durableOwn !== undefined && (d[this.nodeId] ?? 0) > own) {
      if (own > 0) d[this.nodeId] = own;
      else delete d[this.nodeId];
    }
    return d;
  }

  /** The gap-free watermark of one origin (0 when unknown). */
  watermark(origin: string): number {
    return this.logs.get(origin as NodeId)?.watermark ?? 0;
  }

  /** The digest entries that moved since the last call (what storage must update), then forgets them. */
  takeMovedWatermarks(): Digest {
    const d: Digest = {};
    for (const origin of this.movedOrigins) d[origin] = (this.logs.get(origin) as OriginLog<Entry>).watermark;
    this.movedOrigins.clear();
    return d;
  }

  /**
   * The live records a peer with `peerDigest` lacks, in seq order per origin, cut at
   * `limits`. Superseded records are never sent: they are not held.
   */
  deltasFor(peerDigest: Readonly<Record<string, unknown>>, limits: BatchLimits = UNLIMITED_BATCH): DeltaBatch {
    const records: StoreRecord[] = [];
    const covers: Cover[] = [];
    let bytes = 0;
    const origins = [...this.logs.keys()].sort();
    for (const origin of origins) {
      const log = this.logs.get(origin) as OriginLog<Entry>;
      const theirs = peerDigest[origin];
      const from = typeof theirs === 'number' && Number.isSafeInteger(theirs) && theirs >= 0 ? theirs : 0;
      let lastSent = from;
      let cut = false;
      // Our own records not yet committed stay here: see trackDurability.
      const own = origin === this.nodeId && this.durableOwn !== undefined;
      const upTo = own ? this.durableOwnSeq() : log.watermark;
      for (const [seq, e] of log.after(from)) {
        if (own && seq > upTo) break;
        const fits = records.length < limits.maxRecords && (bytes + e.bytes <= limits.maxBytes || records.length === 0);
        if (!fits) {
          cut = true;
          break;
        }
        records.push(e.rec);
        bytes += e.bytes;
        lastSent = seq;
      }
      const to = cut ? Math.min(lastSent, upTo) : upTo;
      if (to > from) covers.push({ origin, from, to });
      if (cut) return { records, covers, complete: false };
    }
    return { records, covers, complete: true };
  }

  // ---- reads --------------------------------------------------------------------------

  /** The visible fields of an object in name order (the same on every replica), or undefined. */
  get(id: string): Record<string, Json> | undefined {
    const o = this.objects.get(id as ObjectId);
    if (o === undefined || !isVisible(o)) return undefined;
    const out: Record<string, Json> = {};
    for (const name of [...o.fields.keys()].sort()) {
      const v = (o.fields.get(name) as Entry).rec.value;
      if (v !== TOMBSTONE) out[name] = v;
    }
    return out;
  }

  /** Whether an object exists. */
  has(id: string): boolean {
    const o = this.objects.get(id as ObjectId);
    return o !== undefined && isVisible(o);
  }

  /** Visible objects in id order, after `cursor`, with ids starting with `prefix`. */
  list(opts: { prefix?: string; after?: string; limit?: number } = {}): { id: ObjectId; fields: Record<string, Json> }[] {
    const out: { id: ObjectId; fields: Record<string, Json> }[] = [];
    const limit = opts.limit ?? Number.MAX_SAFE_INTEGER;
    const prefix = opts.prefix ?? '';
    const ids = this.ids();
    let i = lowerBoundStr(ids, opts.after !== undefined && opts.after >= prefix ? opts.after : prefix);
    if (opts.after !== undefined && ids[i] === opts.after) i++;
    for (; i < ids.length && out.length < limit; i++) {
      const id = ids[i] as ObjectId;
      if (!id.startsWith(prefix)) break;
      const fields = this.get(id);
      if (fields !== undefined) out.push({ id, fields });
    }
    return out;
  }

  /** Every record held (live values and tombstones), in no particular order. */
  *records(): Generator<StoreRecord> {
    for (const o of this.objects.values()) {
      if (o.obj !== undefined) yield o.obj.rec;
      for (const e of o.fields.values()) yield e.rec;
    }
  }

  /** One chunk of a snapshot: whole objects with ids after `cursor`, in id order. */
  snapshotChunk(cursor: string | null, limits: BatchLimits): SnapshotChunk {
    const ids = this.ids();
    let i = cursor === null ? 0 : lowerBoundStr(ids, cursor);
    if (cursor !== null && ids[i] === cursor) i++;
    const records: StoreRecord[] = [];
    let bytes = 0;
    let last: string | null = null;
    for (; i < ids.length; i++) {
      const id = ids[i] as ObjectId;
      const o = this.objects.get(id);
      if (o === undefined) continue;
      const all = o.obj === undefined ? [...o.fields.values()] : [o.obj, ...o.fields.values()];
      const durable = this.durableOwnSeq();
      const entries = this.durableOwn === undefined ? all : all.filter((e) => e.rec.origin !== this.nodeId || e.rec.seq <= durable);
      const size = entries.reduce((n, e) => n + e.bytes, 0);
      if (records.length > 0 && (records.length + entries.length > limits.maxRecords || bytes + size > limits.maxBytes)) return { records, cursor: last };
      for (const e of entries) records.push(e.rec);
      bytes += size;
      last = id;
    }
    return { records, cursor: null };
  }

  /** Iterates a whole snapshot chunk by chunk; each chunk's cursor resumes after it. */
  *snapshot(limits: BatchLimits, cursor: string | null = null): Generator<SnapshotChunk> {
    for (;;) {
      const chunk = this.snapshotChunk(cursor, limits);
      yield chunk;
      if (chunk.cursor === null) return;
      cursor = chunk.cursor;
    }
  }

  private ids(): ObjectId[] {
    if (this.sortedIds === null) this.sortedIds = [...this.objects.keys()].sort();
    return this.sortedIds;
  }

  // ---- housekeeping -------------------------------------------------------------------

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
   * server had seen it (seq within `serverStart`: it lost there) or when it is no newer than
   * the server's collection `horizon` (it may belong to an object whose deletion was forgotten:
   * returned in `stale`, for the caller to report). Everything else is kept for the server to
   * learn. Watermarks stay: what was dropped counts as superseded.
   */
  reconcileStale(confirmed: (r: StoreRecord) => boolean, serverStart: Readonly<Record<string, number>>, horizon: Timestamp, since: Timestamp): WriteResult & { stale: StoreRecord[] } {
    const stale: StoreRecord[] = [];
    const drop = (r: StoreRecord): boolean => {
      if (confirmed(r) || compareTs(r.ts, since) > 0) return false;
      if (r.seq <= (serverStart[r.origin] ?? 0)) return true;
      if (compareTs(r.ts, horizon) > 0) return false;
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
   * We were restored from an older copy and a peer holds our writes up to `floor`: moves every
   * record of ours with seq above `after` (written since the restore, colliding with the
   * peer's) to fresh seqs above `floor`, same stamps, so nothing reuses a number a peer holds.
   * Our watermark goes back to `after` until the peer's records arrive. Returns new records by old seq.
   */
  renumberOwn(after: number, floor: number): Map<number, StoreRecord> {
    const log = this.log(this.nodeId);
    const moved = new Map<number, StoreRecord>();
    this.raiseOwnSeqFloor(floor);
    const victims = [...log.after(after)];
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
    log.resetTo(after, [...moved.values()].map((r) => r.seq));
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

  /** Counts of objects, live fields, tombstones and encoded bytes. */
  stats(): StoreStats {
    return { objects: this.visibleObjects, liveFields: this.liveFields, tombstones: this.tombstones.size, encodedBytes: this.bytes };
  }

  /** Every broken invariant, described (empty when all hold); a full scan, for tests and the simulator. */
  checkInvariants(): string[] {
    return checkStoreInvariants({ objects: this.objects, logs: this.logs, tombstones: this.tombstones, stats: this.stats() });
  }

  /** Records refused since this store was made because another record held their (origin, seq). */
  seqConflictCount(): number {
    return this.seqConflicts;
  }

  /** Records refused by merges since this store was made, by error code. */
  rejections(): Partial<Record<ErrorCode, number>> {
    return { ...this.rejectedTotals };
  }
}

/** Whether two records are the same write (a reused (origin, seq) carries another register or stamp). */
function sameRecord(a: StoreRecord, b: StoreRecord): boolean {
  return a.objectId === b.objectId && a.field === b.field && a.ts.ms === b.ts.ms && a.ts.lc === b.ts.lc;
}

function lowerBoundStr(a: readonly string[], x: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as string) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
