import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { NodeId, ObjectId } from '../../src/core/ids.ts';
import { Integrity, RECENT_DROPS } from '../../src/node/integrity.ts';
import type { StoreRecord } from '../../src/store/record.ts';

const rec = (seq: number): StoreRecord => ({ objectId: `lamp-${seq}` as ObjectId, field: 'on', value: true, ts: { ms: 1_700_000_000_000 + seq, lc: 0 }, origin: 'a'.repeat(32) as NodeId, seq });

describe('Integrity: records dropped visibly', () => {
  it('logs every batch at warn level and keeps the last ones for /api/v1/node', () => {
    const lines: { level: number; msg: string; count: number }[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as { level: number; msg: string; count: number }) });
    const integrity = new Integrity(log);
    integrity.observe({ type: 'records-dropped', reason: 'stale', records: [rec(1), rec(2)] }, 5);
    integrity.observe({ type: 'records-dropped', reason: 'seq-conflict', records: Array.from({ length: RECENT_DROPS }, (_, i) => rec(10 + i)) }, 6);
    expect(lines.map((l) => [l.level, l.count])).toEqual([[40, 2], [40, RECENT_DROPS]]);
    expect(lines[0]?.msg).toMatch(/dropped 2 record\(s\): older than a deletion/);
    const view = integrity.view({ staleRecordsDropped: 2, seqConflicts: RECENT_DROPS, tombstonesCollected: 7 });
    expect(view).toMatchObject({ staleRecordsDropped: 2, seqConflicts: RECENT_DROPS, tombstonesCollected: 7, staleDetected: 0, ownWritesRenumbered: 0 });
    expect(view.recentDrops).toHaveLength(RECENT_DROPS);
    expect(view.recentDrops[0]).toEqual({ reason: 'seq-conflict', objectId: 'lamp-10', field: 'on', origin: 'a'.repeat(32), seq: 10, tsMs: 1_700_000_000_010, at: 6 });
  });
});
