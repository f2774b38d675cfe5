import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, realpathSync, statSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ChorusError, ErrorCode } from '../core/errors.ts';
import { isNodeId, newNodeId, parseNodeId, type NodeId } from '../core/ids.ts';
import type { Random } from '../core/random.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { acquireLock, type HeldLock } from './lock-file.ts';

/** Options of `DataDir.open`. */
export interface DataDirOptions {
  /** Use this node id (flag or environment) instead of the stored one; it is validated and persisted. */
  readonly nodeIdOverride?: string | undefined;
  /** Where a new node id's bits come from; the runtime passes its CryptoRandom. Default: node:crypto. */
  readonly random?: Random | undefined;
}

/** Where this node's id came from on this open. */
export type NodeIdSource = 'created' | 'stored' | 'override';

const IDENTITY_FILE = 'identity.json';
const GENERATION_FILE = 'generation';
const NODE_INFO_FILE = 'node.json';
const LOCK_FILE = 'LOCK';

const osRandom: Random = {
  uint32: () => randomBytes(4).readUInt32LE(0),
  next: () => randomBytes(4).readUInt32LE(0) / 4294967296,
};

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Removes temporary files an atomic write left behind when its process died (we hold the lock). */
function removeTempFiles(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!/^\..+\.\d+\.\d+\.tmp$/.test(name)) continue;
    try {
      unlinkSync(join(dir, name));
    } catch {
      // gone already
    }
  }
}

function invalidFile(path: string, problem: string): ChorusError {
  return new ChorusError(ErrorCode.DataDirInvalid, `${path} ${problem}; fix or remove it`);
}

/**
 * A node's data directory, held exclusively by one process through `<dir>/LOCK`. It keeps
 * the node's identity (`identity.json`), its generation counter (`generation`), the runtime's
 * `node.json`, and hands out paths for other files (`chorus.db`, `keyring.json`).
 * Every file it writes is replaced atomically and fsynced before the call returns.
 */
export class DataDir {
  private lock: HeldLock | undefined;

  private constructor(
    /** Absolute path of the directory. */
    readonly dir: string,
    lock: HeldLock,
    /** This node's id. */
    readonly nodeId: NodeId,
    /** Whether the id was created now, read back, or given by an override. */
    readonly nodeIdSource: NodeIdSource,
  ) {
    this.lock = lock;
  }

  /**
   * Opens (creating with mode 0700 if needed) and locks the directory. Throws
   * CHORUS_DATA_DIR_LOCKED, naming the directory and the holder's pid, when another process
   * holds it; CHORUS_INVALID_NODE_ID for a bad override; CHORUS_DATA_DIR_INVALID for a
   * damaged identity file.
   */
  static open(path: string, options: DataDirOptions = {}): DataDir {
    const override = options.nodeIdOverride === undefined ? undefined : parseNodeId(options.nodeIdOverride);
    mkdirSync(resolve(path), { recursive: true, mode: 0o700 });
    // The canonical path, so a second open through a symlink meets the same lock.
    const dir = realpathSync(resolve(path));
    if (!statSync(dir).isDirectory()) throw new ChorusError(ErrorCode.DataDirInvalid, `data directory ${dir} is not a directory`);
    const lock = acquireLock(join(dir, LOCK_FILE), `data directory ${dir}`);
    try {
      removeTempFiles(dir);
      const { nodeId, source } = DataDir.identity(dir, override, options.random ?? osRandom);
      return new DataDir(dir, lock, nodeId, source);
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  private static identity(dir: string, override: NodeId | undefined, random: Random): { nodeId: NodeId; source: NodeIdSource } {
    const path = join(dir, IDENTITY_FILE);
    const text = readIfExists(path);
    let stored: NodeId | undefined;
    if (text !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw invalidFile(path, 'is not valid JSON');
      }
      const id = (parsed as { nodeId?: unknown } | null)?.nodeId;
      if (!isNodeId(id)) throw invalidFile(path, 'does not hold a valid nodeId (32 lowercase hex characters)');
      stored = id;
    }
    const nodeId = override ?? stored ?? newNodeId(random);
    if (nodeId !== stored) writeFileAtomic(path, `${JSON.stringify({ nodeId }, null, 2)}\n`);
    return { nodeId, source: override !== undefined ? 'override' : stored !== undefined ? 'stored' : 'created' };
  }

  /** The path of a file inside the directory, e.g. `path('chorus.db')`. */
  path(name: string): string {
    if (name.length === 0 || name.includes('/') || name.includes('\\') || name === '.' || name === '..') {
      throw new ChorusError(ErrorCode.InvalidConfig, `data file name must be a plain file name, got ${JSON.stringify(name)}`);
    }
    return join(this.dir, name);
  }

  /** The generation last persisted (0 before the first start). */
  generation(): number {
    this.assertOpen();
    const path = join(this.dir, GENERATION_FILE);
    const text = readIfExists(path);
    if (text === undefined) return 0;
    const n = Number(text.trim());
    if (!/^[0-9]+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw invalidFile(path, `holds ${JSON.stringify(text.slice(0, 40))}, not a generation number`);
    return n;
  }

  /** Persists generation + 1 (durably, before returning) and returns it: call once per start. */
  nextGeneration(): number {
    const next = this.generation() + 1;
    this.setGeneration(next);
    return next;
  }

  /** Persists `n` as the generation (`chorus generation set N`); the next start uses n + 1. */
  setGeneration(n: number): void {
    this.assertOpen();
    if (!Number.isSafeInteger(n) || n < 0) throw new ChorusError(ErrorCode.InvalidConfig, `generation must be a non-negative integer, got ${n}`);
    writeFileAtomic(join(this.dir, GENERATION_FILE), `${n}\n`);
  }

  /** Atomically replaces `node.json` (the port actually bound, the pid, the version...). */
  writeNodeInfo(info: object): void {
    this.assertOpen();
    writeFileAtomic(join(this.dir, NODE_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`, 0o644);
  }

  /** Releases the lock; the directory can then be opened again. */
  close(): void {
    this.lock?.release();
    this.lock = undefined;
  }

  private assertOpen(): void {
    if (this.lock === undefined) throw new ChorusError(ErrorCode.StorageClosed, `data directory ${this.dir} is closed`);
  }
}
