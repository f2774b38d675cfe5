import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.ts';
import { MIGRATIONS } from '../../src/storage/sqlite-schema.ts';
import { SqliteStorage } from '../../src/storage/sqlite-storage.ts';
import { TOMBSTONE } from '../../src/store/record.ts';
import { storageAdapterSuite } from './adapter-suite.ts';
import { A, rec } from './fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'chorus-sqlite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = (): string => join(mkdtempSync(join(root, `t${++n}-`)), 'chorus.db');

storageAdapterSuite('sqlite', async () => {
  const path = freshPath();
  return { adapter: SqliteStorage.open(path), reopen: async () => SqliteStorage.open(path) };
});

describe('SqliteStorage', () => {
  it('uses WAL and synchronous FULL by default, NORMAL on request', async () => {
    const path = freshPath();
    const s = SqliteStorage.open(path);
    await s.apply({ meta: { a: 1 } });
    await s.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    db.close();
    expect(s.synchronous).toBe('full');
    const t = SqliteStorage.open(path, { synchronous: 'normal' });
    expect(t.synchronous).toBe('normal');
    await t.close();
  });

  it('refuses an unknown synchronous level', () => {
    expect(() => SqliteStorage.open(freshPath(), { synchronous: 'off' as never })).toThrow(expect.objectContaining({ code: ErrorCode.InvalidConfig }));
  });

  it('gives CHORUS_STORAGE_CORRUPT naming the path for a garbage file', () => {
    for (const garbage of [Buffer.from('this is not a database, it is a shopping list\n'.repeat(200)), Buffer.alloc(8192, 0xab)]) {
      const path = freshPath();
      writeFileSync(path, garbage);
      let err: unknown;
      try {
        SqliteStorage.open(path);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ name: 'ChorusError', code: ErrorCode.StorageCorrupt });
      expect((err as Error).message).toContain(path);
    }
  });

  it('refuses a SQLite file of another application', () => {
    const path = freshPath();
    const db = new Database(path);
    db.exec('CREATE TABLE photos (id INTEGER PRIMARY KEY)');
    db.close();
    expect(() => SqliteStorage.open(path)).toThrow(expect.objectContaining({ code: ErrorCode.StorageCorrupt, message: expect.stringContaining(path) }));
  });

  it('refuses a file written by a newer schema, and runs appended migrations once', async () => {
    const path = freshPath();
    await (SqliteStorage.open(path)).close();
    let ran = 0;
    const next = [...MIGRATIONS, { version: 2, description: 'test step', up: (db: Database.Database) => (ran++, db.exec('CREATE TABLE extra (x)')) }];
    const v2 = SqliteStorage.open(path, { migrations: next });
    expect(v2.schemaVersion).toBe(2);
    await v2.close();
    await (SqliteStorage.open(path, { migrations: next })).close();
    expect(ran).toBe(1);
    expect(() => SqliteStorage.open(path)).toThrow(expect.objectContaining({ code: ErrorCode.StorageTooNew, message: expect.stringContaining(path) }));
  });

  it('gives CHORUS_STORAGE_FAILED naming the path when the file cannot be opened', () => {
    const path = join(root, 'no', 'such', 'dir', 'chorus.db');
    expect(() => SqliteStorage.open(path)).toThrow(expect.objectContaining({ code: ErrorCode.StorageFailed, message: expect.stringContaining(path) }));
  });

  it('skips and counts bad rows instead of failing the load', async () => {
    const path = freshPath();
    const s = SqliteStorage.open(path);
    await s.apply({ journal: [{ op: 'put', record: rec('good', 'v', 1, 1) }, { op: 'put', record: rec('gone', 'v', TOMBSTONE, 2) }], watermarks: { [A]: 2 } });
    await s.close();
    const db = new Database(path);
    db.prepare("INSERT INTO records VALUES ('bad', 'v', 0, x'c1c1', 1, 0, ?, 3)").run(A);
    db.prepare("INSERT INTO records VALUES ('worse', 'v', 7, NULL, 1, 0, ?, 4)").run(A);
    db.prepare("INSERT INTO records VALUES ('bad-origin', 'v', 0, NULL, 1, 0, 'nobody', 5)").run();
    db.prepare("INSERT INTO members VALUES (?, x'ffff')").run(A);
    db.prepare("INSERT INTO watermarks VALUES ('nobody', 3)").run();
    db.close();
    const again = SqliteStorage.open(path);
    const state = await again.load();
    expect(state.records.map((r) => (r as { objectId: string }).objectId)).toEqual(['gone', 'good']);
    expect(state.skipped).toBe(5);
    expect(state.members).toEqual([]);
    expect(state.digest).toEqual({ [A]: 2 });
    await again.close();
  });
});
