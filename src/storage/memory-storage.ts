import { ChorusError, ErrorCode } from '../core/errors.ts';
import type { Json } from '../core/json.ts';
import { cleanMember } from '../membership/freshness.ts';
import type { MemberRecord } from '../membership/member.ts';
import { TOMBSTONE, type StoreRecord } from '../store/record.ts';
import { compareRegisters, validateBatch } from './batch.ts';
import type { StorageAdapter, StorageBatch, StoredState } from './storage-adapter.ts';

/** What a MemoryStorage holds; shared between handles so a "restart" keeps it. */
interface MemoryData {
  readonly records: Map<string, StoreRecord>;
  readonly watermarks: Map<string, number>;
  readonly meta: Map<string, unknown>;
  readonly members: Map<string, MemberRecord>;
}

function copyJson<T>(v: T): T {
  return typeof v === 'object' && v !== null ? structuredClone(v) : v;
}

function copyRecord(r: StoreRecord): StoreRecord {
  const value = r.value === TOMBSTONE ? TOMBSTONE : copyJson<Json>(r.value);
  return { objectId: r.objectId, field: r.field, value, ts: { ms: r.ts.ms, lc: r.ts.lc }, origin: r.origin, seq: r.seq };
}

// objectId and field cannot contain control characters, so NUL separates them unambiguously.
const registerKey = (objectId: string, field: string): string => `${objectId}\u0000${field}`;

/**
 * A StorageAdapter in maps, for tests and the simulator. Everything is copied on the way in
 * and on the way out, so no caller can change stored state except through `apply`.
 */
export class MemoryStorage implements StorageAdapter {
  readonly kind = 'memory';
  private closed = false;

  constructor(private readonly data: MemoryData = { records: new Map(), watermarks: new Map(), meta: new Map(), members: new Map() }) {}

  /** A new handle on the same data, as a process restart with its storage kept would see it. */
  reopen(): MemoryStorage {
    return new MemoryStorage(this.data);
  }

  /** False once closed. */
  isOpen(): boolean {
    return !this.closed;
  }

  async load(): Promise<StoredState> {
    this.assertOpen();
    const records = [...this.data.records.values()].sort(compareRegisters).map(copyRecord);
    return {
      records,
      digest: Object.fromEntries([...this.data.watermarks].sort(([a], [b]) => (a < b ? -1 : 1))),
      members: [...this.data.members.values()].sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1)),
      skipped: 0,
    };
  }

  async getMeta(key: string): Promise<unknown> {
    this.assertOpen();
    return copyJson(this.data.meta.get(key));
  }

  async apply(batch: StorageBatch): Promise<void> {
    this.assertOpen();
    // Validation first: past this point nothing can throw, so a batch applies whole or not at all.
    validateBatch(batch);
    const { records, watermarks, meta, members } = this.data;
    for (const e of batch.journal ?? []) {
      if (e.op === 'put') records.set(registerKey(e.record.objectId, e.record.field), copyRecord(e.record));
      else records.delete(registerKey(e.objectId, e.field));
    }
    for (const [origin, seq] of Object.entries(batch.setWatermarks ?? {})) watermarks.set(origin, seq);
    for (const [origin, seq] of Object.entries(batch.watermarks ?? {})) watermarks.set(origin, Math.max(seq, watermarks.get(origin) ?? 0));
    for (const [key, value] of Object.entries(batch.meta ?? {})) {
      if (value === undefined) meta.delete(key);
      else meta.set(key, copyJson(value));
    }
    // cleanMember returns a frozen copy, safe to hand out as it is.
    for (const m of batch.members?.put ?? []) members.set(m.nodeId, cleanMember(m));
    for (const id of batch.members?.remove ?? []) members.delete(id);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new ChorusError(ErrorCode.StorageClosed, 'memory storage is closed');
  }
}
