import type { Store } from '../store/store.ts';
import type { JournalEntry } from '../store/types.ts';
import type { StorageBatch } from './storage-adapter.ts';

/**
 * The storage batch that mirrors one journal of `store` (its journal sink's argument): the
 * journal, the watermarks that moved (and, after a renumbering, those that went down), the
 * collected state when it changed, and `lastActiveMs` at `nowMs`. Takes the store's pending
 * changes, so call it once per journal.
 */
export function journalBatch(store: Store, journal: readonly JournalEntry[], nowMs: number): StorageBatch {
  const lowered = store.takeLoweredWatermarks();
  const collected = store.takeCollectedChange();
  const batch: StorageBatch = { journal, watermarks: store.takeMovedWatermarks(), meta: collected === undefined ? { lastActiveMs: nowMs } : { lastActiveMs: nowMs, gc: collected } };
  if (lowered !== undefined) batch.setWatermarks = lowered;
  return batch;
}
