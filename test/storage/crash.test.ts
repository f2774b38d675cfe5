import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/core/random.ts';
import { SqliteStorage } from '../../src/storage/sqlite-storage.ts';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SEED = Number(process.env.CHORUS_CRASH_SEED ?? Date.now() % 2 ** 31);
const root = mkdtempSync(join(tmpdir(), 'chorus-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the writer, SIGKILLs it `delayMs` after it is ready, and returns the seqs it acknowledged. */
function writeThenKill(dbPath: string, prefix: string, synchronous: 'full' | 'normal', delayMs: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dbPath, prefix, synchronous], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (timer === undefined && out.includes('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (_status, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer ended by itself (${String(_status)}): ${err}`));
      resolve([...out.matchAll(/^acked (\d+)$/gm)].map((m) => Number(m[1])));
    });
  });
}

describe('crash safety (real processes, SIGKILL)', () => {
  it.each([
    ['full', 5],
    ['normal', 3],
  ] as const)('every write acknowledged before a SIGKILL is there after reopen (synchronous=%s)', async (synchronous, iterations) => {
    const random = new SeededRandom(SEED);
    const dbPath = join(root, `${synchronous}.db`);
    let total = 0;
    for (let it = 0; it < iterations; it++) {
      const delayMs = 50 + Math.floor(random.next() * 351);
      const prefix = `run${it}`;
      const acked = await writeThenKill(dbPath, prefix, synchronous, delayMs);
      const storage = SqliteStorage.open(dbPath);
      const state = await storage.load();
      await storage.close();
      const held = new Set(state.records.filter((r) => (r as { objectId: string }).objectId.startsWith(`${prefix}-`)).map((r) => (r as { seq: number }).seq));
      const lost = acked.filter((n) => !held.has(n));
      expect(lost, `seed ${SEED} (CHORUS_CRASH_SEED=${SEED} replays the delays), iteration ${it}, killed after ${delayMs} ms`).toEqual([]);
      expect(state.skipped).toBe(0);
      total += acked.length;
    }
    const db = new Database(dbPath, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    console.log(`synchronous=${synchronous}: ${total} acknowledged writes over ${iterations} kills, none lost (seed ${SEED})`);
    expect(total).toBeGreaterThan(0);
  });
});
