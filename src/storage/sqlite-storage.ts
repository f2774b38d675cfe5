import Database from 'better-sqlite3';
import { decode, encode } from '../core/codec.ts';
import { ChorusError, ErrorCode } from '../core/errors.ts';
import { isNodeId } from '../core/ids.ts';
import { cleanMember, memberProblem } from '../membership/freshness.ts';
import type { MemberRecord } from '../membership/member.ts';
import { recordToTuple, tupleToRecord } from '../store/record-codec.ts';
import { checkRecord } from '../store/record.ts';
import { STORAGE_JSON_LIMITS, validateBatch } from './batch.ts';
import { MIGRATIONS, migrate, storageError, type Migration } from './sqlite-schema.ts';
import type { StorageAdapter, StorageBatch, StoredState } from './storage-adapter.ts';

/** Options of a SqliteStorage. */
export interface SqliteStorageOptions {
  /**
   * 'full' (default): every commit is fsynced, so an acknowledged write survives power loss.
   * 'normal': commits reach the OS at once but are fsynced only at checkpoints; they survive
   * a process crash, and the last ones may be lost to a power cut. Several times faster.
   */
  readonly synchronous?: 'full' | 'normal';
  /** How long to wait for another connection's lock. 5 s rides out a CLI reading the file. */
  readonly busyTimeoutMs?: number;
  /** The schema history; tests append steps to exercise the migration hook. */
  readonly migrations?: readonly Migration[];
}

type Row = [objectId: string, field: string, kind: number, value: Uint8Array | null, ms: number, lc: number, origin: string, seq: number];

/** An encoded batch: everything that could fail to encode has, before the transaction opens. */
interface Plan {
  readonly journal: (Row | [objectId: string, field: string])[];
  readonly watermarks: [string, number][];
  readonly setWatermarks: [string, number][];
  readonly metaSet: [string, Uint8Array][];
  readonly metaDelete: string[];
  readonly memberPut: [string, Uint8Array][];
  readonly memberRemove: string[];
}

function encodePlan(batch: StorageBatch): Plan {
  const plan: Plan = { journal: [], watermarks: Object.entries(batch.watermarks ?? {}), setWatermarks: Object.entries(batch.setWatermarks ?? {}), metaSet: [], metaDelete: [], memberPut: [], memberRemove: [...(batch.members?.remove ?? [])] };
  for (const e of batch.journal ?? []) {
    if (e.op === 'drop') {
      plan.journal.push([e.objectId, e.field]);
      continue;
    }
    const [objectId, field, kind, value, ms, lc, origin, seq] = recordToTuple(e.record) as [string, string, number, unknown, number, number, string, number];
    // SQL NULL stands for a null value and for a tombstone's empty slot; `kind` tells them apart.
    plan.journal.push([objectId, field, kind, value === null ? null : encode(value), ms, lc, origin, seq]);
  }
  for (const [key, value] of Object.entries(batch.meta ?? {})) {
    if (value === undefined) plan.metaDelete.push(key);
    else plan.metaSet.push([key, encode(value)]);
  }
  for (const m of batch.members?.put ?? []) plan.memberPut.push([m.nodeId, encode(cleanMember(m))]);
  return plan;
}

/** Opens, checks and migrates the file, and sets the pragmas; throws ChorusErrors naming `path`. */
function openDatabase(path: string, options: SqliteStorageOptions): Database.Database {
  const synchronous = options.synchronous ?? 'full';
  if (synchronous !== 'full' && synchronous !== 'normal') throw new ChorusError(ErrorCode.InvalidConfig, `storage synchronous must be 'full' or 'normal', got ${JSON.stringify(synchronous)}`);
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) throw new ChorusError(ErrorCode.InvalidConfig, `storage busyTimeoutMs must be a non-negative integer, got ${busyTimeoutMs}`);
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    migrate(db, path, options.migrations ?? MIGRATIONS);
    const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
    if (mode.toLowerCase() !== 'wal') throw new ChorusError(ErrorCode.StorageFailed, `${path}: could not switch to WAL journal mode (got ${mode})`);
    db.pragma(`synchronous = ${synchronous.toUpperCase()}`);
    // After a burst (a snapshot bootstrap) the WAL shrinks back to this at the next checkpoint.
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    return db;
  } catch (e) {
    db?.close();
    throw storageError(path, e, 'opening it');
  }
}

/**
 * The embedded default StorageAdapter: one SQLite file in WAL mode through better-sqlite3.
 * Each `apply` is one transaction of prepared statements; with `synchronous=FULL` it returns
 * only after the WAL is fsynced. Record values, meta values and member records are MessagePack.
 */
export class SqliteStorage implements StorageAdapter {
  readonly kind = 'sqlite';
  /** The schema version the file is at. */
  readonly schemaVersion: number;
  /** The durability level in force, as read back from SQLite. */
  readonly synchronous: 'full' | 'normal';
  private readonly db: Database.Database;
  private closed = false;
  private readonly stmt;
  private readonly applyTx;

  /**
   * Opens (creating if needed) the store at `path`. Throws CHORUS_STORAGE_CORRUPT when the file
   * is not a Chorus database or is damaged, CHORUS_STORAGE_TOO_NEW when a newer Chorus wrote it,
   * CHORUS_STORAGE_FAILED when it cannot be opened; every message names the path.
   */
  constructor(
    /** The database file. */
    readonly path: string,
    options: SqliteStorageOptions = {},
  ) {
    const db = openDatabase(path, options);
    this.db = db;
    this.schemaVersion = db.pragma('user_version', { simple: true }) as number;
    this.synchronous = db.pragma('synchronous', { simple: true }) === 2 ? 'full' : 'normal';
    this.stmt = {
      putRecord: db.prepare('INSERT OR REPLACE INTO records (object_id, field, kind, value, ts_ms, ts_lc, origin, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      dropRecord: db.prepare('DELETE FROM records WHERE object_id = ? AND field = ?'),
      setWatermark: db.prepare('INSERT OR REPLACE INTO watermarks (origin, seq) VALUES (?, ?)'),
      watermark: db.prepare('INSERT INTO watermarks (origin, seq) VALUES (?, ?) ON CONFLICT (origin) DO UPDATE SET seq = max(seq, excluded.seq)'),
      setMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      deleteMeta: db.prepare('DELETE FROM meta WHERE key = ?'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      putMember: db.prepare('INSERT OR REPLACE INTO members (node_id, record) VALUES (?, ?)'),
      removeMember: db.prepare('DELETE FROM members WHERE node_id = ?'),
      loadRecords: db.prepare('SELECT object_id, field, kind, value, ts_ms, ts_lc, origin, seq FROM records ORDER BY object_id, field').raw(),
      loadWatermarks: db.prepare('SELECT origin, seq FROM watermarks ORDER BY origin').raw(),
      loadMembers: db.prepare('SELECT node_id, record FROM members ORDER BY node_id').raw(),
    };
    const s = this.stmt;
    this.applyTx = db.transaction((plan: Plan) => {
      for (const j of plan.journal) {
        if (j.length === 2) s.dropRecord.run(j);
        else s.putRecord.run(j);
      }
      for (const w of plan.setWatermarks) s.setWatermark.run(w);
      for (const w of plan.watermarks) s.watermark.run(w);
      for (const m of plan.metaSet) s.setMeta.run(m);
      for (const k of plan.metaDelete) s.deleteMeta.run(k);
      for (const m of plan.memberPut) s.putMember.run(m);
      for (const id of plan.memberRemove) s.removeMember.run(id);
    });
  }

  /** Same as `new SqliteStorage(path, options)`. */
  static open(path: string, options: SqliteStorageOptions = {}): SqliteStorage {
    return new SqliteStorage(path, options);
  }

  /** False once closed (for health checks). */
  isOpen(): boolean {
    return !this.closed;
  }

  async load(): Promise<StoredState> {
    this.assertOpen();
    try {
      let skipped = 0;
      const records: unknown[] = [];
      for (const row of this.stmt.loadRecords.all() as Row[]) {
        const r = decodeRecordRow(row);
        if (r === undefined) skipped++;
        else records.push(r);
      }
      const digest: Record<string, number> = {};
      for (const [origin, seq] of this.stmt.loadWatermarks.all() as [unknown, unknown][]) {
        if (isNodeId(origin) && Number.isSafeInteger(seq) && (seq as number) >= 0) digest[origin] = seq as number;
        else skipped++;
      }
      const members: MemberRecord[] = [];
      for (const [nodeId, blob] of this.stmt.loadMembers.all() as [unknown, unknown][]) {
        const m = decodeMemberRow(nodeId, blob);
        if (m === undefined) skipped++;
        else members.push(m);
      }
      return { records, digest, members, skipped };
    } catch (e) {
      throw storageError(this.path, e, 'loading it');
    }
  }

  async getMeta(key: string): Promise<unknown> {
    this.assertOpen();
    let blob: unknown;
    try {
      blob = this.stmt.getMeta.get(key);
    } catch (e) {
      throw storageError(this.path, e, `reading meta ${JSON.stringify(key)}`);
    }
    if (blob === undefined) return undefined;
    try {
      return decode(blob as Uint8Array);
    } catch (e) {
      throw storageError(this.path, Object.assign(new Error(`meta ${JSON.stringify(key)} does not decode: ${String(e)}`), { code: 'SQLITE_CORRUPT' }), 'reading meta');
    }
  }

  async apply(batch: StorageBatch): Promise<void> {
    this.assertOpen();
    validateBatch(batch);
    const plan = encodePlan(batch);
    try {
      this.applyTx.immediate(plan);
    } catch (e) {
      throw storageError(this.path, e, 'committing a batch');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ChorusError(ErrorCode.StorageClosed, `storage ${this.path} is closed`);
  }
}

/** A stored row as a record for `Store.load`, or undefined when it does not decode to a valid one. */
function decodeRecordRow(row: Row): unknown {
  const [objectId, field, kind, blob, ms, lc, origin, seq] = row;
  try {
    const value = blob === null ? null : decode(blob);
    const r = tupleToRecord([objectId, field, kind, value, ms, lc, origin, seq]);
    checkRecord(r, STORAGE_JSON_LIMITS);
    return r;
  } catch {
    return undefined;
  }
}

function decodeMemberRow(nodeId: unknown, blob: unknown): MemberRecord | undefined {
  try {
    const m = decode(blob as Uint8Array);
    if (memberProblem(m) !== undefined || (m as MemberRecord).nodeId !== nodeId) return undefined;
    return cleanMember(m as MemberRecord);
  } catch {
    return undefined;
  }
}
