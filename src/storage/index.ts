// The storage layer's public face: import from here.
export { batchEntries, mergeBatches, STORAGE_JSON_LIMITS, validateBatch } from './batch.ts';
export { DataDir, type DataDirOptions, type NodeIdSource } from './data-dir.ts';
export { GroupCommitter, type GroupCommitOptions, type GroupCommitStats } from './group-commit.ts';
export { MemoryStorage } from './memory-storage.ts';
export { CHORUS_APPLICATION_ID, MIGRATIONS, type Migration } from './sqlite-schema.ts';
export { SqliteStorage, type SqliteStorageOptions } from './sqlite-storage.ts';
export type { StorageAdapter, StorageBatch, StoredState } from './storage-adapter.ts';
