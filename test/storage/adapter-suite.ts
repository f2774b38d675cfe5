import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.ts';
import type { StorageAdapter, StorageBatch } from '../../src/storage/storage-adapter.ts';
import { OBJECT_FIELD, TOMBSTONE } from '../../src/store/record.ts';
import { adapterPropertyTests } from './adapter-property.ts';
import { A, B, C, member, rec, recordLine } from './fixtures.ts';

/** What an adapter factory returns: a fresh, empty adapter, and how to reopen its storage. */
export interface AdapterUnderTest {
  readonly adapter: StorageAdapter;
  /** Closes nothing: opens the same storage again (call after closing `adapter`). */
  readonly reopen?: () => Promise<StorageAdapter>;
}

/** The factory each adapter's test file passes in. */
export type MakeAdapter = () => Promise<AdapterUnderTest>;

const put = (r: ReturnType<typeof rec>) => ({ op: 'put' as const, record: r });
const drop = (objectId: string, field: string) => ({ op: 'drop' as const, objectId: objectId as never, field });

async function lines(adapter: StorageAdapter): Promise<string[]> {
  return (await adapter.load()).records.map(recordLine);
}

/**
 * The acceptance suite every StorageAdapter must pass (automerge-repo style): run it from one
 * test file per adapter with a factory for fresh instances.
 */
export function storageAdapterSuite(name: string, makeAdapter: MakeAdapter): void {
  const open = async (): Promise<StorageAdapter> => (await makeAdapter()).adapter;

  describe(`StorageAdapter acceptance: ${name}`, () => {
    it('loads empty when new', async () => {
      const s = await open();
      expect(await s.load()).toMatchObject({ records: [], digest: {}, members: [] });
      expect(await s.getMeta('lastActiveMs')).toBeUndefined();
      await s.close();
    });

    it('applies journal puts and drops in order, and loads records in id order', async () => {
      const s = await open();
      await s.apply({ journal: [put(rec('lamp', 'on', true, 1)), put(rec('lamp', 'level', 5, 2)), drop('lamp', 'level'), put(rec('door', 'open', false, 3))] });
      expect(await lines(s)).toEqual([rec('door', 'open', false, 3), rec('lamp', 'on', true, 1)].map(recordLine));
      // drop-then-put of one register in one batch keeps the put; put-then-drop removes it
      await s.apply({ journal: [drop('lamp', 'on'), put(rec('lamp', 'on', false, 4)), put(rec('fan', 'rpm', 9, 5)), drop('fan', 'rpm')] });
      expect(await lines(s)).toEqual([rec('door', 'open', false, 3), rec('lamp', 'on', false, 4)].map(recordLine));
      // a put replaces the register whatever its stamp: storage mirrors, the store decides
      await s.apply({ journal: [put(rec('door', 'open', { by: 'ann' }, 6, B))] });
      expect(await lines(s)).toEqual([rec('door', 'open', { by: 'ann' }, 6, B), rec('lamp', 'on', false, 4)].map(recordLine));
      // dropping a register that is not held is a no-op
      await s.apply({ journal: [drop('ghost', 'x')] });
      expect((await s.load()).records).toHaveLength(2);
      await s.close();
    });

    it('round-trips tombstones as TOMBSTONE, resets as null, and nested values exactly', async () => {
      const s = await open();
      const value = { a: [1, 2.5, -3, 'x', null, true], b: { c: 'é✓😀' }, big: 2 ** 53 - 1 };
      await s.apply({ journal: [put(rec('a', OBJECT_FIELD, TOMBSTONE, 1)), put(rec('b', OBJECT_FIELD, null, 2)), put(rec('b', 'x', TOMBSTONE, 3)), put(rec('c', 'v', value, 4)), put(rec('d', 'n', null, 5))] });
      const { records } = await s.load();
      const by = (id: string, f: string) => records.find((r) => (r as { objectId: string; field: string }).objectId === id && (r as { field: string }).field === f) as { value: unknown };
      expect(by('a', OBJECT_FIELD).value).toBe(TOMBSTONE);
      expect(by('b', OBJECT_FIELD).value).toBeNull();
      expect(by('b', 'x').value).toBe(TOMBSTONE);
      expect(by('c', 'v').value).toEqual(value);
      expect(by('d', 'n').value).toBeNull();
      await s.close();
    });

    it('never lowers a watermark', async () => {
      const s = await open();
      await s.apply({ watermarks: { [A]: 5 } });
      await s.apply({ watermarks: { [A]: 3, [B]: 2 } });
      expect((await s.load()).digest).toEqual({ [A]: 5, [B]: 2 });
      await s.apply({ watermarks: { [A]: 7, [B]: 0 } });
      expect((await s.load()).digest).toEqual({ [A]: 7, [B]: 2 });
      await s.close();
    });

    it('sets a watermark exactly with setWatermarks (the one way down), before raising any', async () => {
      const s = await open();
      await s.apply({ watermarks: { [A]: 9, [B]: 4 } });
      await s.apply({ setWatermarks: { [A]: 3 }, watermarks: { [B]: 2 } });
      expect((await s.load()).digest).toEqual({ [A]: 3, [B]: 4 });
      await s.apply({ setWatermarks: { [B]: 1 }, watermarks: { [B]: 5 } });
      expect((await s.load()).digest).toEqual({ [A]: 3, [B]: 5 });
      await expect(s.apply({ setWatermarks: { [A]: -1 } })).rejects.toThrow(/setWatermarks/);
      await s.close();
    });

    it('sets, replaces and deletes meta values', async () => {
      const s = await open();
      await s.apply({ meta: { lastActiveMs: 1_700_000_000_000, settings: { a: [1, { b: null }] } } });
      expect(await s.getMeta('lastActiveMs')).toBe(1_700_000_000_000);
      expect(await s.getMeta('settings')).toEqual({ a: [1, { b: null }] });
      await s.apply({ meta: { lastActiveMs: 1_700_000_000_500, settings: undefined } });
      expect(await s.getMeta('lastActiveMs')).toBe(1_700_000_000_500);
      expect(await s.getMeta('settings')).toBeUndefined();
      await s.apply({ meta: { missing: undefined } });
      await s.close();
    });

    it('puts, replaces and removes member records', async () => {
      const s = await open();
      await s.apply({ members: { put: [member(B), member(A), member(C)] } });
      await s.apply({ members: { put: [member(A, 2)], remove: [C] } });
      const { members } = await s.load();
      expect(members).toEqual([member(A, 2), member(B)]);
      await s.close();
    });

    it('cannot be changed through references handed in or out', async () => {
      const s = await open();
      const value = { nested: { n: 1 } };
      const settings = { list: [1] };
      await s.apply({ journal: [put(rec('o', 'f', value, 1))], meta: { settings } });
      value.nested.n = 2;
      settings.list.push(2);
      const loaded = (await s.load()).records[0] as { value: { nested: { n: number } } };
      loaded.value.nested.n = 3;
      ((await s.getMeta('settings')) as { list: number[] }).list.push(3);
      expect(((await s.load()).records[0] as { value: unknown }).value).toEqual({ nested: { n: 1 } });
      expect(await s.getMeta('settings')).toEqual({ list: [1] });
      await s.close();
    });

    it('applies nothing from a batch with one invalid entry', async () => {
      const s = await open();
      const base: StorageBatch = { journal: [put(rec('keep', 'v', 1, 1))], watermarks: { [A]: 1 }, meta: { k: 1 }, members: { put: [member(A)] } };
      await s.apply(base);
      const before = { state: await s.load(), meta: await s.getMeta('k') };
      const good = { journal: [put(rec('keep', 'v', 2, 2)), drop('keep', 'v'), put(rec('new', 'v', 3, 3))], watermarks: { [A]: 3 }, meta: { k: 2, other: 'x' }, members: { put: [member(B)], remove: [A] } };
      const bad: StorageBatch[] = [
        { ...good, journal: [...good.journal, put(rec('bad', 'v', 10n as never, 4))] },
        { ...good, journal: [...good.journal, put(rec('bad', 'v', (() => 1) as never, 4))] },
        { ...good, journal: [...good.journal, put({ ...rec('bad', 'v', 1, 4), seq: 0 })] },
        { ...good, journal: [...good.journal, drop('bad', '__proto__')] },
        { ...good, journal: [...good.journal, put(rec('bad\uD800', 'v', 1, 4))] },
        { ...good, watermarks: { [A]: 3, 'not-a-node': 1 } },
        { ...good, watermarks: { [A]: -1 } },
        { ...good, meta: { k: 2, bad: Number.NaN } },
        { ...good, members: { put: [member(B), { ...member(C), status: 'zombie' as never }] } },
        { ...good, members: { remove: ['nope' as never] } },
      ];
      for (const batch of bad) {
        await expect(s.apply(batch)).rejects.toMatchObject({ code: ErrorCode.InvalidStorageBatch });
        expect({ state: await s.load(), meta: await s.getMeta('k') }).toEqual(before);
      }
      await s.apply(good);
      expect((await s.load()).records.map(recordLine)).toEqual([rec('new', 'v', 3, 3)].map(recordLine));
      await s.close();
    });

    it('refuses calls after close with CHORUS_STORAGE_CLOSED', async () => {
      const s = await open();
      await s.close();
      await expect(s.apply({ meta: { a: 1 } })).rejects.toMatchObject({ code: ErrorCode.StorageClosed });
      await expect(s.load()).rejects.toMatchObject({ code: ErrorCode.StorageClosed });
      await s.close();
    });

    it('keeps everything across close and reopen', async (ctx) => {
      const made = await makeAdapter();
      if (made.reopen === undefined) {
        await made.adapter.close();
        ctx.skip();
        return;
      }
      const s = made.adapter;
      await s.apply({ journal: [put(rec('lamp', 'on', true, 1)), put(rec('door', OBJECT_FIELD, TOMBSTONE, 2))], watermarks: { [A]: 2, [B]: 9 }, meta: { lastActiveMs: 42 }, members: { put: [member(A), member(B)] } });
      const before = await s.load();
      await s.close();
      const again = await made.reopen();
      expect(await again.load()).toEqual(before);
      expect(await again.getMeta('lastActiveMs')).toBe(42);
      await again.apply({ journal: [drop('lamp', 'on')] });
      expect((await again.load()).records).toHaveLength(1);
      await again.close();
    });

    it('round-trips 100,000 records', async () => {
      const s = await open();
      const n = 100_000;
      for (let start = 0; start < n; start += 10_000) {
        const journal = [];
        for (let i = start; i < start + 10_000; i++) journal.push(put(rec(`obj-${String(i).padStart(6, '0')}`, 'state', { on: i % 2 === 0, level: i % 100 }, i + 1)));
        await s.apply({ journal, watermarks: { [A]: start + 10_000 } });
      }
      const t0 = performance.now();
      const state = await s.load();
      const ms = performance.now() - t0;
      console.log(`${name}: loaded ${n} records in ${ms.toFixed(0)} ms`);
      expect(state.records).toHaveLength(n);
      expect(state.digest).toEqual({ [A]: n });
      expect(state.skipped ?? 0).toBe(0);
      expect(recordLine(state.records[12_345])).toBe(recordLine(rec('obj-012345', 'state', { on: false, level: 45 }, 12_346)));
      await s.close();
    });

    adapterPropertyTests(makeAdapter);
  });
}
