import { ChorusError, ErrorCode, isChorusError } from '../core/errors.ts';
import type { Timestamp } from '../core/hlc.ts';
import { isNodeId, parseObjectId, type NodeId, type ObjectId } from '../core/ids.ts';
import { measureJson, type Json } from '../core/json.ts';
import { ChangeSet } from './changes.ts';
import { UNLIMITED_BATCH, type BatchLimits } from './limits.ts';
import type { Entry } from './entry.ts';
import { MaintainedReplica } from './maintained.ts';
import type { OriginLog } from './origin-log.ts';
import { assertFieldName, checkRecord, OBJECT_FIELD, recordBytes, TOMBSTONE, type StoreRecord } from './record.ts';
import { lowerBoundStr } from './replica.ts';
import type { Digest, Cover, DeltaBatch, JournalEntry, WriteResult, MergeResult, SnapshotChunk } from './types.ts';

export type { Digest, Cover, DeltaBatch, JournalEntry, WriteResult, MergeResult, SnapshotChunk, StoreStats, StoreInit } from './types.ts';

/**
 * A replica of the shared objects (see Replica for its invariants): local writes stamped by
 * the hybrid logical clock, merges from peers and storage, digests and deltas for
 * anti-entropy, and snapshots. Each top-level field is a last-writer-wins register; an
 * object-level record (reset or delete) clears every field record older than it.
 *
 * Invariant 5: a merge never installs a record whose (origin, seq) another record holds; it
 * is refused and returned in `conflicts`.
 */
export class Store extends MaintainedReplica {
  private readonly rejectedTotals: Partial<Record<ErrorCode, number>> = {};

  /** Records refused because another record holds their (origin, seq). */
  private seqConflicts = 0;

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
    this.ownIssued?.add(seq);
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
      if (held === undefined && log.accounted(r.seq)) {
        // Received before (or covered) and not held: it lost here, possibly to a tombstone
        // since collected; installing it again would resurrect what that tombstone deleted.
        superseded++;
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
