import type Database from 'better-sqlite3';
import { ChorusError, ErrorCode } from '../core/errors.ts';

/** Marks a SQLite file as a Chorus store (the header's application_id): 'CHOR'. */
export const CHORUS_APPLICATION_ID = 0x43484f52;

/** One step of the schema: from `version - 1` to `version`, run inside one transaction. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  up(db: Database.Database): void;
}

/**
 * The schema's history. ONLY APPEND: a file records the last version applied (user_version)
 * and opening it runs the steps after that one, each in its own transaction.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'records, watermarks, meta, members',
    up(db) {
      db.exec(`
        CREATE TABLE records (
          object_id TEXT NOT NULL,
          field     TEXT NOT NULL,
          kind      INTEGER NOT NULL,
          value     BLOB,
          ts_ms     INTEGER NOT NULL,
          ts_lc     INTEGER NOT NULL,
          origin    TEXT NOT NULL,
          seq       INTEGER NOT NULL,
          PRIMARY KEY (object_id, field)
        ) WITHOUT ROWID;
        CREATE TABLE watermarks (origin TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE members (node_id TEXT PRIMARY KEY, record BLOB NOT NULL) WITHOUT ROWID;
      `);
    },
  },
];

/** Turns an error from SQLite into a ChorusError naming the file; ChorusErrors pass through. */
export function storageError(path: string, e: unknown, doing: string): ChorusError {
  if (e instanceof ChorusError) return e;
  const code = typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : '';
  const message = e instanceof Error ? e.message : String(e);
  const corrupt = code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT');
  const err = corrupt
    ? new ChorusError(ErrorCode.StorageCorrupt, `${path} is not a Chorus database or is damaged (${message}${code ? `, ${code}` : ''}) while ${doing}; move it aside to start with empty storage`)
    : new ChorusError(ErrorCode.StorageFailed, `${path}: ${message}${code ? ` (${code})` : ''} while ${doing}`);
  err.cause = e;
  return err;
}

/**
 * Brings the file to the newest schema in `migrations` and returns that version. A fresh
 * (empty) file is initialised; a SQLite file of another application, or one written by a
 * newer Chorus, is refused with a ChorusError naming the path.
 */
export function migrate(db: Database.Database, path: string, migrations: readonly Migration[]): number {
  const latest = migrations.length === 0 ? 0 : (migrations[migrations.length - 1] as Migration).version;
  const appId = db.pragma('application_id', { simple: true }) as number;
  let version = db.pragma('user_version', { simple: true }) as number;
  if (appId !== CHORUS_APPLICATION_ID) {
    const objects = db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get() as number;
    if (appId !== 0 || version !== 0 || objects !== 0) {
      throw new ChorusError(ErrorCode.StorageCorrupt, `${path} is a SQLite database but not a Chorus one (application_id ${appId}, user_version ${version}, ${objects} schema objects)`);
    }
  }
  if (version > latest) {
    throw new ChorusError(ErrorCode.StorageTooNew, `${path} has schema version ${version}, newer than the ${latest} this Chorus understands; upgrade Chorus`);
  }
  for (const m of migrations) {
    if (m.version <= version) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`application_id = ${CHORUS_APPLICATION_ID}`);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
    version = m.version;
  }
  return version;
}
