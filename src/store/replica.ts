import { ChorusError, ErrorCode } from '../core/errors.ts';
import { HybridClock } from '../core/hlc.ts';
import { isNodeId, type NodeId, type ObjectId } from '../core/ids.ts';
import type { Json, JsonLimits } from '../core/json.ts';
import type { ChangeSet } from './changes.ts';
import { resolveStoreOptions, type StoreOptions } from './limits.ts';
import { isVisible, type Entry, type ObjState } from './entry.ts';
import { checkStoreInvariants } from './invariants.ts';
import { OriginLog } from './origin-log.ts';
import { compareRecords, OBJECT_FIELD, TOMBSTONE, type StoreRecord } from './record.ts';
import type { Digest, JournalEntry, StoreInit, StoreStats } from './types.ts';

/**
 * The registers of a replica: objects, per-origin logs, tombstones and counters, with the
 * reads and the one place records are installed (`apply`). Store adds writes, merges and
 * reconciliation on top; MaintainedReplica collection and own-seq upkeep.
 *
 * Invariants:
 * 1. Every record held wins its register: a field record beats its object's object-level
 *    record; at most one record per (object, field). Superseded records are dropped at once,
 *    so the state grows with live fields, never with the number of writes.
 * 2. Every held record is in its origin's log under its seq, and nowhere else.
 * 3. An object is visible when it has a visible field or its object-level record is a reset.
 * 4. Counters (`stats`) equal what a full scan would count (`checkInvariants` verifies 1–4).
 */
export abstract class Replica {
  readonly nodeId: NodeId;

  readonly hlc: HybridClock;

  readonly options: StoreOptions;

  protected readonly limits: JsonLimits;

  protected readonly objects = new Map<ObjectId, ObjState>();

  protected readonly logs = new Map<NodeId, OriginLog<Entry>>();

  protected readonly tombstones = new Set<Entry>();

  protected sortedIds: ObjectId[] | null = null;

  protected visibleObjects = 0;

  protected liveFields = 0;

  protected bytes = 0;

  protected journalSink: ((journal: readonly JournalEntry[]) => void) | undefined;

  /** Origins whose watermark moved since `takeMovedWatermarks` last ran. */
  protected readonly movedOrigins = new Set<NodeId>();

  /** Origins whose id already passed validation. */
  protected readonly knownOrigins = new Set<string>();

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

  /** Installs `r` if it wins its register; returns whether it did. */
  protected apply(r: StoreRecord, bytes: number, changes: ChangeSet, journal: JournalEntry[]): boolean {
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

  protected dropIfEmpty(id: ObjectId, o: ObjState, result: boolean): boolean {
    if (o.obj === undefined && o.fields.size === 0) this.objects.delete(id);
    return result;
  }

  protected hold(e: Entry): void {
    this.log(e.rec.origin).add(e.rec.seq, e);
    this.bytes += e.bytes;
    if (e.rec.value === TOMBSTONE) this.tombstones.add(e);
    else if (e.rec.field !== OBJECT_FIELD) this.liveFields++;
  }

  protected unhold(e: Entry): void {
    this.log(e.rec.origin).remove(e.rec.seq);
    this.bytes -= e.bytes;
    if (e.rec.value === TOMBSTONE) this.tombstones.delete(e);
    else if (e.rec.field !== OBJECT_FIELD) this.liveFields--;
  }

  protected log(origin: NodeId): OriginLog<Entry> {
    let log = this.logs.get(origin);
    if (log === undefined) {
      log = new OriginLog();
      this.logs.set(origin, log);
    }
    return log;
  }

  /** `{ origin: highest seq held without gaps }` for every origin known, in origin order. */
  digest(): Digest {
    const d: Digest = {};
    for (const origin of [...this.logs.keys()].sort()) {
      const w = (this.logs.get(origin) as OriginLog<Entry>).watermark;
      if (w > 0) d[origin] = w;
    }
    return d;
  }

  /** The gap-free watermark of one origin (0 when unknown). */
  watermark(origin: string): number {
    return this.logs.get(origin as NodeId)?.watermark ?? 0;
  }

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

  protected ids(): ObjectId[] {
    if (this.sortedIds === null) this.sortedIds = [...this.objects.keys()].sort();
    return this.sortedIds;
  }

  /** Counts of objects, live fields, tombstones and encoded bytes. */
  stats(): StoreStats {
    return { objects: this.visibleObjects, liveFields: this.liveFields, tombstones: this.tombstones.size, encodedBytes: this.bytes };
  }

  /** Every broken invariant, described (empty when all hold); a full scan, for tests and the simulator. */
  checkInvariants(): string[] {
    return checkStoreInvariants({ objects: this.objects, logs: this.logs, tombstones: this.tombstones, stats: this.stats() });
  }
}

/** The first index of sorted `a` whose element is not below `x`. */
export function lowerBoundStr(a: readonly string[], x: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as string) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
