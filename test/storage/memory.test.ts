import { MemoryStorage } from '../../src/storage/memory-storage.ts';
import { storageAdapterSuite } from './adapter-suite.ts';

storageAdapterSuite('memory', async () => {
  const adapter = new MemoryStorage();
  return { adapter, reopen: async () => adapter.reopen() };
});
