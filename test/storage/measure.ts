// Storage throughput figures for docs/decisions/0002-storage.md (not a test: timings vary by disk).
// Run: node --import tsx test/storage/measure.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroupCommitter } from '../../src/storage/group-commit.ts';
import { SqliteStorage } from '../../src/storage/sqlite-storage.ts';
import type { StorageBatch } from '../../src/storage/storage-adapter.ts';
import { A, rec } from './fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'chorus-measure-'));
let files = 0;
const batch = (n: number): StorageBatch => ({ journal: [{ op: 'put', record: rec(`obj-${n % 5000}`, 'state', { on: n % 2 === 0, level: n % 100 }, n) }], watermarks: { [A]: n } });

type Pattern = 'one-turn' | 'bursts-of-100' | 'sequential';

/** Commits `count` single-record submits with the given arrival pattern; returns records/s and commits. */
async function run(synchronous: 'full' | 'normal', pattern: Pattern, count: number): Promise<{ perSec: number; commits: number }> {
  const committer = new GroupCommitter(SqliteStorage.open(join(root, `m${++files}.db`), { synchronous }));
  const t0 = performance.now();
  if (pattern === 'one-turn') {
    await Promise.all(Array.from({ length: count }, (_, i) => committer.submit(batch(i + 1))));
  } else if (pattern === 'bursts-of-100') {
    const all: Promise<void>[] = [];
    for (let i = 0; i < count; i += 100) {
      for (let k = i; k < i + 100; k++) all.push(committer.submit(batch(k + 1)));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(all);
  } else {
    for (let i = 0; i < count; i++) await committer.submit(batch(i + 1));
  }
  const s = (performance.now() - t0) / 1000;
  const commits = committer.stats().commits;
  await committer.close();
  return { perSec: Math.round(count / s), commits };
}

async function loadTime(): Promise<number> {
  const path = join(root, 'load.db');
  const s = SqliteStorage.open(path);
  for (let start = 0; start < 100_000; start += 10_000) {
    await s.apply({ journal: Array.from({ length: 10_000 }, (_, i) => ({ op: 'put' as const, record: rec(`obj-${String(start + i).padStart(6, '0')}`, 'state', { on: true, level: i % 100 }, start + i + 1) })) });
  }
  await s.close();
  const times: number[] = [];
  for (let k = 0; k < 5; k++) {
    const again = SqliteStorage.open(path);
    const t0 = performance.now();
    await again.load();
    times.push(performance.now() - t0);
    await again.close();
  }
  return Math.round(times.sort((a, b) => a - b)[2] as number);
}

for (const synchronous of ['full', 'normal'] as const) {
  for (const [pattern, count] of [['one-turn', 100_000], ['bursts-of-100', 100_000], ['sequential', 3_000]] as const) {
    const r = await run(synchronous, pattern, count);
    console.log(`synchronous=${synchronous.padEnd(6)} ${pattern.padEnd(14)} ${String(count).padStart(6)} submits: ${String(r.perSec).padStart(7)} records/s in ${r.commits} commits`);
  }
}
console.log(`load of 100,000 records (median of 5): ${await loadTime()} ms`);
rmSync(root, { recursive: true, force: true });
