import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../src/core/errors.ts';
import { mergeBatches } from '../../src/storage/batch.ts';
import { GroupCommitter } from '../../src/storage/group-commit.ts';
import { MemoryStorage } from '../../src/storage/memory-storage.ts';
import { SqliteStorage } from '../../src/storage/sqlite-storage.ts';
import type { StorageAdapter, StorageBatch, StoredState } from '../../src/storage/storage-adapter.ts';
import { A, B, C, member, rec, recordLine } from './fixtures.ts';

/** Wraps an adapter, logging each apply and, when `hold` is set, keeping it pending until released. */
class RecordingAdapter implements StorageAdapter {
  readonly kind = 'recording';
  readonly applied: StorageBatch[] = [];
  readonly events: string[] = [];
  hold = false;
  failNext: Error | undefined;
  private held: (() => void)[] = [];

  constructor(readonly inner: StorageAdapter = new MemoryStorage()) {}

  load(): Promise<StoredState> {
    return this.inner.load();
  }
  getMeta(key: string): Promise<unknown> {
    return this.inner.getMeta(key);
  }
  async apply(batch: StorageBatch): Promise<void> {
    this.applied.push(batch);
    const n = this.applied.length;
    this.events.push(`apply ${n} start`);
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    if (this.failNext !== undefined) {
      const e = this.failNext;
      this.failNext = undefined;
      this.events.push(`apply ${n} failed`);
      throw e;
    }
    await this.inner.apply(batch);
    this.events.push(`apply ${n} committed`);
  }
  release(): void {
    this.hold = false;
    for (const r of this.held.splice(0)) r();
  }
  close(): Promise<void> {
    this.events.push('close');
    return this.inner.close();
  }
}

const putBatch = (i: number, origin = A): StorageBatch => ({ journal: [{ op: 'put', record: rec(`o${i}`, 'v', i, i, origin) }], watermarks: { [origin]: i } });
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

afterEach(() => {
  vi.useRealTimers();
});

describe('GroupCommitter', () => {
  it('merges submits of one event-loop turn into one commit, in submission order', async () => {
    const adapter = new RecordingAdapter();
    const gc = new GroupCommitter(adapter);
    const done = Array.from({ length: 1000 }, (_, i) => gc.submit(putBatch(i + 1)));
    await Promise.all(done);
    expect(adapter.applied).toHaveLength(1);
    expect(adapter.applied[0]?.journal?.map((e) => (e.op === 'put' ? e.record.seq : -1))).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(adapter.applied[0]?.watermarks).toEqual({ [A]: 1000 });
    expect(gc.stats()).toMatchObject({ submits: 1000, commits: 1, committedBatches: 1000, journalEntries: 1000, failedCommits: 0, pending: 0 });
    expect((await adapter.load()).records).toHaveLength(1000);
  });

  it('resolves each submit only after the commit holding it has committed', async () => {
    const adapter = new RecordingAdapter();
    adapter.hold = true;
    const gc = new GroupCommitter(adapter);
    const acks = [1, 2, 3].map((i) => gc.submit(putBatch(i)).then(() => adapter.events.push(`ack ${i}`)));
    await turn();
    await turn();
    expect(adapter.events).toEqual(['apply 1 start']);
    // submits arriving while a commit is in flight wait for the next one
    const late = gc.submit(putBatch(4)).then(() => adapter.events.push('ack 4'));
    await turn();
    expect(gc.stats().pending).toBe(4);
    adapter.release();
    await Promise.all([...acks, late]);
    expect(adapter.events).toEqual(['apply 1 start', 'apply 1 committed', 'ack 1', 'ack 2', 'ack 3', 'apply 2 start', 'apply 2 committed', 'ack 4']);
    expect(gc.stats()).toMatchObject({ commits: 2, committedBatches: 4, pending: 0 });
  });

  it('rejects every submit of a failed commit, and loses nothing acknowledged', async () => {
    const adapter = new RecordingAdapter();
    const gc = new GroupCommitter(adapter);
    const boom = new Error('disk on fire');
    adapter.failNext = boom;
    const failed = [1, 2, 3].map((i) => gc.submit(putBatch(i)));
    const results = await Promise.allSettled(failed);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(results.every((r) => r.status === 'rejected' && r.reason === boom)).toBe(true);
    const ok = [4, 5].map((i) => gc.submit(putBatch(i)));
    await Promise.all(ok);
    expect((await adapter.load()).records.map(recordLine)).toEqual([rec('o4', 'v', 4, 4), rec('o5', 'v', 5, 5)].map(recordLine));
    expect(gc.stats()).toMatchObject({ submits: 5, commits: 1, failedCommits: 1, committedBatches: 2, pending: 0 });
  });

  it('refuses an invalid batch at submit without failing the batches around it', async () => {
    const adapter = new RecordingAdapter();
    const gc = new GroupCommitter(adapter);
    const a = gc.submit(putBatch(1));
    const bad = gc.submit({ journal: [{ op: 'put', record: rec('x', 'v', Number.NaN, 2) }] });
    const b = gc.submit(putBatch(3));
    await expect(bad).rejects.toMatchObject({ code: ErrorCode.InvalidStorageBatch });
    await Promise.all([a, b]);
    expect(adapter.applied).toHaveLength(1);
    expect(gc.stats()).toMatchObject({ submits: 3, invalidBatches: 1, commits: 1, committedBatches: 2 });
  });

  it('cuts groups at maxEntries; a larger single batch commits alone', async () => {
    const adapter = new RecordingAdapter();
    const gc = new GroupCommitter(adapter, { maxEntries: 100 });
    const ten = (k: number): StorageBatch => ({ journal: Array.from({ length: 10 }, (_, i) => ({ op: 'put' as const, record: rec(`g${k}-${i}`, 'v', i, k * 10 + i + 1) })) });
    const big: StorageBatch = { journal: Array.from({ length: 250 }, (_, i) => ({ op: 'put' as const, record: rec(`big${i}`, 'v', i, 1000 + i) })) };
    await Promise.all([...Array.from({ length: 25 }, (_, k) => gc.submit(ten(k))), gc.submit(big), gc.submit(ten(99))]);
    expect(adapter.applied.map((b) => b.journal?.length)).toEqual([100, 100, 50, 250, 10]);
    expect(gc.stats().journalEntries).toBe(510);
  });

  it('waits up to maxDelayMs to gather a group, and commits at once when full', async () => {
    vi.useFakeTimers();
    const adapter = new RecordingAdapter();
    const gc = new GroupCommitter(adapter, { maxDelayMs: 50, maxEntries: 5 });
    const first = gc.submit(putBatch(1));
    await vi.advanceTimersByTimeAsync(30);
    const second = gc.submit(putBatch(2));
    expect(adapter.applied).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(25);
    await Promise.all([first, second]);
    expect(adapter.applied).toHaveLength(1);
    // each batch weighs 1 (its watermark is free): the fifth of these reaches maxEntries, so
    // they commit without waiting out the delay
    const full = [3, 4, 5, 6, 7].map((i) => gc.submit(putBatch(i)));
    await vi.advanceTimersByTimeAsync(0);
    await Promise.all(full);
    expect(adapter.applied.map((b) => b.journal?.map((e) => (e.op === 'put' ? e.record.seq : -1)))).toEqual([[1, 2], [3, 4, 5, 6, 7]]);
  });

  it('flush commits at once; close flushes, closes the adapter and refuses later submits', async () => {
    const adapter = new RecordingAdapter();
    const gc = new GroupCommitter(adapter, { maxDelayMs: 60_000 });
    const p = gc.submit(putBatch(1));
    await gc.flush();
    await p;
    expect(adapter.applied).toHaveLength(1);
    const q = gc.submit(putBatch(2));
    await gc.close();
    await q;
    expect(adapter.events.at(-1)).toBe('close');
    await expect(gc.submit(putBatch(3))).rejects.toMatchObject({ code: ErrorCode.StorageClosed });
    await gc.flush();
  });

  it('merges watermarks by max and meta and members by last word, as applying in order would', async () => {
    const batches: StorageBatch[] = [
      { watermarks: { [A]: 5, [B]: 1 }, meta: { a: 1, b: 2 }, members: { put: [member(A), member(B)] } },
      { watermarks: { [A]: 3, [C]: 2 }, meta: { a: undefined, c: 3 }, members: { remove: [A, C] } },
      { meta: { b: 20 }, members: { put: [member(C, 3)], remove: [B] } },
    ];
    const merged = mergeBatches(batches);
    expect(merged.watermarks).toEqual({ [A]: 5, [B]: 1, [C]: 2 });
    expect(merged.meta).toEqual({ a: undefined, b: 20, c: 3 });
    expect(Object.hasOwn(merged.meta ?? {}, 'a')).toBe(true);
    expect(merged.members).toEqual({ put: [member(C, 3)], remove: [A, B] });
    const one = new MemoryStorage();
    for (const b of batches) await one.apply(b);
    const other = new MemoryStorage();
    await other.apply(merged);
    expect(await other.load()).toEqual(await one.load());
    for (const k of ['a', 'b', 'c']) expect(await other.getMeta(k)).toEqual(await one.getMeta(k));
  });
});

describe('mergeBatches with watermarks set exactly', () => {
  it('a set watermark restarts the max-merge of its origin, as applying in order would', async () => {
    const batches: StorageBatch[] = [{ watermarks: { [A]: 9, [B]: 4 } }, { setWatermarks: { [A]: 3 }, watermarks: { [B]: 2 } }, { watermarks: { [A]: 5 } }, { setWatermarks: { [B]: 1 } }];
    const merged = mergeBatches(batches);
    expect(merged.setWatermarks).toEqual({ [A]: 3, [B]: 1 });
    expect(merged.watermarks).toEqual({ [A]: 5 });
    const one = new MemoryStorage();
    const other = new MemoryStorage();
    await one.apply({ watermarks: { [A]: 20, [B]: 20 } });
    await other.apply({ watermarks: { [A]: 20, [B]: 20 } });
    for (const b of batches) await one.apply(b);
    await other.apply(merged);
    expect(await other.load()).toEqual(await one.load());
  });
});

describe('GroupCommitter over SQLite', () => {
  const root = mkdtempSync(join(tmpdir(), 'chorus-gc-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('commits a turn of submits in one transaction and keeps them across reopen', async () => {
    const path = join(root, 'chorus.db');
    const gc = new GroupCommitter(SqliteStorage.open(path));
    await Promise.all(Array.from({ length: 2000 }, (_, i) => gc.submit(putBatch(i + 1))));
    expect(gc.stats()).toMatchObject({ commits: 1, committedBatches: 2000 });
    await gc.close();
    const again = SqliteStorage.open(path);
    const state = await again.load();
    expect(state.records).toHaveLength(2000);
    expect(state.digest).toEqual({ [A]: 2000 });
    await again.close();
  });
});
