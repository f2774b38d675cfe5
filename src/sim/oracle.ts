import type { Timestamp } from '../core/hlc.ts';
import { compareTs } from '../core/hlc.ts';
import type { NodeId } from '../core/ids.ts';
import { TOMBSTONE, type StoreRecord } from '../store/index.ts';

/** Identity of one record by value: records arrive as copies, and a reused seq names two records. */
export function recordId(r: StoreRecord): string {
  return `${r.origin}:${r.seq}:${r.ts.ms}:${r.ts.lc}`;
}

/** Key of a register (object, field); OBJECT_FIELD is the object-level register. */
export function registerKey(objectId: string, field: string): string {
  return `${objectId}\u0000${field}`;
}

/**
 * Everything the simulator knows for certain about the records of a run, whatever the nodes
 * believe: every record any node created (by origin and seq; after a rollback a seq may name
 * several), which were acknowledged to a client (their batch committed), which were retracted
 * (lost in a crash before their commit, so they never left the node: commit-before-push), and
 * which the nodes reported dropped ('records-dropped' events).
 */
export class Oracle {
  private readonly bySeq = new Map<NodeId, Map<number, StoreRecord[]>>();
  /** Every created record by register (objectId, field). */
  private readonly byRegister = new Map<string, StoreRecord[]>();
  readonly acked: StoreRecord[] = [];
  private readonly ackedIds = new Set<string>();
  private readonly retracted = new Set<string>();
  /** Records reported dropped as stale at or below the reported horizon, by record id. */
  private readonly staleIds = new Set<string>();
  /** Records reported dropped for any reason, by record id. */
  private readonly droppedIds = new Set<string>();

  /** Notes records a node just created (a local write). */
  created(records: readonly StoreRecord[]): void {
    for (const r of records) {
      let seqs = this.bySeq.get(r.origin);
      if (seqs === undefined) {
        seqs = new Map();
        this.bySeq.set(r.origin, seqs);
      }
      const at = seqs.get(r.seq);
      if (at === undefined) seqs.set(r.seq, [r]);
      else at.push(r);
      const k = registerKey(r.objectId, r.field);
      const list = this.byRegister.get(k);
      if (list === undefined) this.byRegister.set(k, [r]);
      else list.push(r);
    }
  }

  /** Notes records acknowledged to the client (their batch committed). */
  ack(records: readonly StoreRecord[]): void {
    for (const r of records) {
      this.acked.push(r);
      this.ackedIds.add(recordId(r));
    }
  }

  /** A crash of `origin` whose commits reached `durableSeq`: its own unacknowledged records above it never existed anywhere else. */
  retractAbove(origin: NodeId, durableSeq: number): void {
    const seqs = this.bySeq.get(origin);
    if (seqs === undefined) return;
    for (const [seq, recs] of seqs) {
      if (seq <= durableSeq) continue;
      for (const r of recs) if (!this.ackedIds.has(recordId(r))) this.retracted.add(recordId(r));
    }
  }

  /** Notes a 'records-dropped' report; a stale record counts as excused only at or below the horizon given. */
  dropped(reason: 'stale' | 'seq-conflict', records: readonly StoreRecord[], horizon: Timestamp | undefined): void {
    for (const r of records) {
      const id = recordId(r);
      this.droppedIds.add(id);
      if (reason === 'stale' && (horizon === undefined || compareTs(r.ts, horizon) <= 0)) this.staleIds.add(id);
    }
  }

  /** Whether some node created `r` (a record from nowhere is a bug the checkers must see). */
  isCreated(r: StoreRecord): boolean {
    return (this.bySeq.get(r.origin)?.get(r.seq) ?? []).some((c) => recordId(c) === recordId(r));
  }

  /** Whether `r` was retracted (lost before its commit). */
  isRetracted(r: StoreRecord): boolean {
    return this.retracted.has(recordId(r));
  }

  /** Whether `r` was acknowledged. */
  isAcked(r: StoreRecord): boolean {
    return this.ackedIds.has(recordId(r));
  }

  /** Whether `r` was reported dropped as stale (within the horizon). */
  isStale(r: StoreRecord): boolean {
    return this.staleIds.has(recordId(r));
  }

  /** Whether `r` was reported dropped for any reason. */
  wasDropped(r: StoreRecord): boolean {
    return this.droppedIds.has(recordId(r));
  }

  /** The records created with (origin, seq), retracted ones left out. */
  at(origin: string, seq: number): StoreRecord[] {
    return (this.bySeq.get(origin as NodeId)?.get(seq) ?? []).filter((r) => !this.isRetracted(r));
  }

  /** Origins that created records. */
  origins(): NodeId[] {
    return [...this.bySeq.keys()];
  }

  /** Records created for register (objectId, field), retracted ones left out. */
  recordsOf(objectId: string, field: string): StoreRecord[] {
    return (this.byRegister.get(registerKey(objectId, field)) ?? []).filter((r) => !this.isRetracted(r));
  }

  /** Tombstones created for register (objectId, field), retracted ones left out. */
  tombstonesOf(objectId: string, field: string): StoreRecord[] {
    return this.recordsOf(objectId, field).filter((r) => r.value === TOMBSTONE);
  }

  /** Acknowledged records not excused as stale. */
  ackedLive(): StoreRecord[] {
    return this.acked.filter((r) => !this.isStale(r));
  }

  /** Distinct acknowledged records reported dropped as stale. */
  staleAckedCount(): number {
    return new Set(this.acked.filter((r) => this.isStale(r)).map(recordId)).size;
  }
}
