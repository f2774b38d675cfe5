import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.ts';
import { isNodeId } from '../../src/core/ids.ts';
import { SeededRandom } from '../../src/core/random.ts';
import { DataDir } from '../../src/storage/data-dir.ts';

const root = mkdtempSync(join(tmpdir(), 'chorus-datadir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `d${++n}`, 'data');
const DATA_DIR_MODULE = fileURLToPath(new URL('../../src/storage/data-dir.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `code` (an ES module body with DataDir in scope) in a fresh node process. */
function runNode(code: string, ...args: string[]): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const script = `const { DataDir } = await import(${JSON.stringify(DATA_DIR_MODULE)});\n${code}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid as number;
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.tmp'));
}

describe('DataDir', () => {
  it('creates the directory with mode 0700 and a stable random identity', () => {
    const dir = freshDir();
    const d = DataDir.open(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(isNodeId(d.nodeId)).toBe(true);
    expect(d.nodeIdSource).toBe('created');
    expect(JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8'))).toEqual({ nodeId: d.nodeId });
    d.close();
    const again = DataDir.open(dir);
    expect(again.nodeId).toBe(d.nodeId);
    expect(again.nodeIdSource).toBe('stored');
    again.close();
    const other = DataDir.open(freshDir());
    expect(other.nodeId).not.toBe(d.nodeId);
    other.close();
  });

  it('draws a new id from the Random it is given', () => {
    const a = DataDir.open(freshDir(), { random: new SeededRandom(7) });
    const b = DataDir.open(freshDir(), { random: new SeededRandom(7) });
    expect(a.nodeId).toBe(b.nodeId);
    a.close();
    b.close();
  });

  it('validates and persists a node id override', () => {
    const dir = freshDir();
    const d = DataDir.open(dir);
    const original = d.nodeId;
    d.close();
    expect(() => DataDir.open(dir, { nodeIdOverride: 'not-hex' })).toThrow(expect.objectContaining({ code: ErrorCode.InvalidNodeId }));
    expect(() => DataDir.open(dir, { nodeIdOverride: 'A'.repeat(32) })).toThrow(expect.objectContaining({ code: ErrorCode.InvalidNodeId }));
    const kept = DataDir.open(dir);
    expect(kept.nodeId).toBe(original);
    kept.close();
    const override = '0123456789abcdef0123456789abcdef';
    const o = DataDir.open(dir, { nodeIdOverride: override });
    expect([o.nodeId, o.nodeIdSource]).toEqual([override, 'override']);
    o.close();
    const after = DataDir.open(dir);
    expect([after.nodeId, after.nodeIdSource]).toEqual([override, 'stored']);
    after.close();
  });

  it('refuses a damaged identity file by name instead of making a new identity', () => {
    const dir = freshDir();
    DataDir.open(dir).close();
    writeFileSync(join(dir, 'identity.json'), '{"nodeId": "xyz"}');
    expect(() => DataDir.open(dir)).toThrow(expect.objectContaining({ code: ErrorCode.DataDirInvalid, message: expect.stringContaining(join(dir, 'identity.json')) }));
    // the failed open released its lock
    writeFileSync(join(dir, 'identity.json'), 'garbage');
    expect(() => DataDir.open(dir)).toThrow(expect.objectContaining({ code: ErrorCode.DataDirInvalid }));
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
  });

  it('refuses a second open while locked, naming the directory and the pid; close releases', () => {
    const dir = freshDir();
    const d = DataDir.open(dir);
    expect(readFileSync(join(dir, 'LOCK'), 'utf8').trim()).toBe(String(process.pid));
    let err: unknown;
    try {
      DataDir.open(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: ErrorCode.DataDirLocked });
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toContain(String(process.pid));
    d.close();
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
    DataDir.open(dir).close();
  });

  it('sees the same lock through a symlink', () => {
    const dir = freshDir();
    const d = DataDir.open(dir);
    const link = join(root, `link${++n}`);
    symlinkSync(dir, link);
    expect(() => DataDir.open(link)).toThrow(expect.objectContaining({ code: ErrorCode.DataDirLocked }));
    d.close();
  });

  it('removes temporary files left by a write that died midway', () => {
    const dir = freshDir();
    DataDir.open(dir).close();
    writeFileSync(join(dir, '.generation.12345.1.tmp'), '7');
    DataDir.open(dir).close();
    expect(leftovers(dir)).toEqual([]);
  });

  it('makes a second process fail at once with CHORUS_DATA_DIR_LOCKED and the holder pid', async () => {
    const dir = freshDir();
    const d = DataDir.open(dir);
    const r = await runNode(
      `try { DataDir.open(process.argv[1]); console.log('opened'); } catch (e) { console.log(e.code); console.log(e.message); process.exit(3); }`,
      dir,
    );
    d.close();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('CHORUS_DATA_DIR_LOCKED');
    expect(r.stdout).toContain(`process ${process.pid}`);
    expect(r.stdout).toContain(dir);
  });

  it('releases the lock when the process exits without closing', async () => {
    const dir = freshDir();
    const r = await runNode(`DataDir.open(process.argv[1]); console.log('held');`, dir);
    expect(r.stdout.trim()).toBe('held');
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
  });

  it('takes over a stale lock: a dead pid, our own pid from a previous run, an old unreadable file', () => {
    const dir = freshDir();
    DataDir.open(dir).close();
    const lock = join(dir, 'LOCK');
    for (const content of [`${deadPid()}\n`, `${process.pid}\n`, '']) {
      writeFileSync(lock, content);
      if (content === '') utimesSync(lock, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
      const d = DataDir.open(dir);
      expect(readFileSync(lock, 'utf8').trim()).toBe(String(process.pid));
      d.close();
    }
    // a fresh unreadable lock may be one being written: respect it
    writeFileSync(lock, '');
    expect(() => DataDir.open(dir)).toThrow(expect.objectContaining({ code: ErrorCode.DataDirLocked }));
  });

  it('increments the generation durably before returning it', async () => {
    const dir = freshDir();
    const d = DataDir.open(dir);
    expect(d.generation()).toBe(0);
    expect(d.nextGeneration()).toBe(1);
    expect(readFileSync(join(dir, 'generation'), 'utf8').trim()).toBe('1');
    expect(d.nextGeneration()).toBe(2);
    d.close();
    const again = DataDir.open(dir);
    expect(again.nextGeneration()).toBe(3);
    again.setGeneration(41);
    expect(again.nextGeneration()).toBe(42);
    expect(() => again.setGeneration(-1)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidConfig }));
    expect(() => again.setGeneration(1.5)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidConfig }));
    expect(leftovers(dir)).toEqual([]);
    again.close();
    // a process killed right after nextGeneration returns has persisted what it returned
    const r = await runNode(`const d = DataDir.open(process.argv[1]); console.log(d.nextGeneration()); process.kill(process.pid, 'SIGKILL');`, dir);
    expect(r.signal).toBe('SIGKILL');
    expect(r.stdout.trim()).toBe('43');
    expect(readFileSync(join(dir, 'generation'), 'utf8').trim()).toBe('43');
    // its lock is stale now and is taken over
    const last = DataDir.open(dir);
    expect(last.nextGeneration()).toBe(44);
    last.close();
  });

  it('refuses a damaged generation file by name', () => {
    const dir = freshDir();
    const d = DataDir.open(dir);
    writeFileSync(join(dir, 'generation'), 'twelve\n');
    expect(() => d.nextGeneration()).toThrow(expect.objectContaining({ code: ErrorCode.DataDirInvalid, message: expect.stringContaining(join(dir, 'generation')) }));
    d.close();
  });

  it('replaces node.json atomically', () => {
    const dir = freshDir();
    const d = DataDir.open(dir);
    d.writeNodeInfo({ port: 4711, pid: process.pid });
    const file = join(dir, 'node.json');
    const ino = statSync(file).ino;
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ port: 4711, pid: process.pid });
    d.writeNodeInfo({ port: 4712 });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ port: 4712 });
    // a new inode: the old file was replaced by a rename, never rewritten in place
    expect(statSync(file).ino).not.toBe(ino);
    expect(leftovers(dir)).toEqual([]);
    d.close();
    expect(() => d.writeNodeInfo({})).toThrow(expect.objectContaining({ code: ErrorCode.StorageClosed }));
  });

  it('hands out paths of plain file names only', () => {
    const d = DataDir.open(freshDir());
    expect(d.path('chorus.db')).toBe(join(d.dir, 'chorus.db'));
    for (const bad of ['', '..', '../x', 'a/b']) expect(() => d.path(bad)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidConfig }));
    d.close();
  });
});
