import { ManualClock } from '../../src/core/clock.ts';
import { DataDir } from '../../src/storage/data-dir.ts';
import { SqliteStorage } from '../../src/storage/sqlite-storage.ts';
import { Store, type JournalEntry } from '../../src/store/index.ts';

/**
 * Fills a fresh data directory with `count` objects written by its own node id, through the
 * real Store and SQLite adapter, as if the node had made those writes in an earlier run.
 */
export async function seedDataDir(dir: string, count: number): Promise<string> {
  const dataDir = DataDir.open(dir);
  const storage = new SqliteStorage(dataDir.path('chorus.db'), { synchronous: 'normal' });
  const store = new Store({ nodeId: dataDir.nodeId, clock: new ManualClock(Date.now() - 60_000) });
  let journal: JournalEntry[] = [];
  store.attachJournal((j) => journal.push(...j));
  for (let i = 0; i < count; i++) {
    store.put(`device-${String(i).padStart(6, '0')}`, { on: i % 2 === 0, level: i % 100, room: `room-${i % 17}` });
    if (journal.length >= 20_000) {
      await storage.apply({ journal, watermarks: store.digest() });
      journal = [];
    }
  }
  await storage.apply({ journal, watermarks: store.digest() });
  await storage.close();
  const id = dataDir.nodeId;
  dataDir.close();
  return id;
}
