import type { Logger } from 'pino';
import type { EngineEvent } from '../sync/engine.ts';

/** Most dropped records remembered for /api/v1/node. */
export const RECENT_DROPS = 20;

/** A record the node dropped visibly, as /api/v1/node lists it. */
export interface DroppedRecordView {
  readonly reason: 'stale' | 'seq-conflict';
  readonly objectId: string;
  readonly field: string;
  readonly origin: string;
  readonly seq: number;
  /** The record's stamp, physical ms. */
  readonly tsMs: number;
  /** When it was dropped (epoch ms). */
  readonly at: number;
}

/** What /api/v1/node shows of the replica's integrity: collection and everything dropped rather than applied. */
export interface IntegrityView {
  readonly tombstonesCollected: number;
  readonly staleDetected: number;
  readonly staleRecordsDropped: number;
  readonly supersededRecordsDropped: number;
  readonly seqConflicts: number;
  readonly ownWritesRenumbered: number;
  readonly recentDrops: readonly DroppedRecordView[];
}

/**
 * Keeps the last records the engine dropped visibly (a stale record older than a collected
 * deletion, a reused (origin, seq)) and logs each batch at warn level: these are the only ways
 * an acknowledged write can disappear, so an operator must be able to see every one.
 */
export class Integrity {
  #recent: DroppedRecordView[] = [];

  constructor(private readonly log: Logger) {}

  /** Notes a 'records-dropped' engine event. */
  observe(ev: Extract<EngineEvent, { type: 'records-dropped' }>, now: number): void {
    const views = ev.records.map((r) => ({ reason: ev.reason, objectId: r.objectId, field: r.field, origin: r.origin, seq: r.seq, tsMs: r.ts.ms, at: now }));
    this.#recent = [...this.#recent, ...views].slice(-RECENT_DROPS);
    const what = ev.reason === 'stale' ? 'older than a deletion the mesh has already forgotten' : 'their (origin, seq) is held by another record';
    this.log.warn({ reason: ev.reason, records: views.slice(0, RECENT_DROPS).map((v) => `${v.objectId}/${v.field} ${v.origin}:${v.seq}`), count: views.length }, `dropped ${views.length} record(s): ${what}`);
  }

  /** The view /api/v1/node shows, from the engine's counters. */
  view(counters: Readonly<Record<string, number>>): IntegrityView {
    return {
      tombstonesCollected: counters['tombstonesCollected'] ?? 0,
      staleDetected: counters['staleDetected'] ?? 0,
      staleRecordsDropped: counters['staleRecordsDropped'] ?? 0,
      supersededRecordsDropped: counters['supersededRecordsDropped'] ?? 0,
      seqConflicts: counters['seqConflicts'] ?? 0,
      ownWritesRenumbered: counters['ownWritesRenumbered'] ?? 0,
      recentDrops: this.#recent,
    };
  }
}
