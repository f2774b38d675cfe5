import { closeSync, fsyncSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { ChorusError, ErrorCode } from '../core/errors.ts';

/** Lock files held by this process, so a second open here is refused like one from elsewhere. */
const heldHere = new Set<string>();

/** A LOCK file this process holds; `release()` removes it. */
export interface HeldLock {
  readonly path: string;
  release(): void;
}

/** What an existing lock file says: the holder's pid, or undefined when unreadable. */
function readHolder(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return /^[1-9][0-9]{0,9}$/.test(text) ? Number(text) : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

// A holder writes its pid right after creating the file; an unreadable lock younger than this
// may be one being written, older means its writer died in between.
const UNREADABLE_GRACE_MS = 2000;

/** Whether the lock at `path` is left over from a process that is gone. */
function isStale(path: string, holder: number | undefined): boolean {
  if (holder === undefined) {
    try {
      return Date.now() - statSync(path).mtimeMs > UNREADABLE_GRACE_MS;
    } catch {
      return true; // vanished meanwhile: try again
    }
  }
  // Our own pid in a lock we do not hold: a previous run in a container that reused it.
  if (holder === process.pid) return true;
  return !isAlive(holder);
}

function tryCreate(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, `${process.pid}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes the lock file at `path` (created with O_EXCL, holding our pid). A lock whose holder is
 * no longer alive is taken over. Throws CHORUS_DATA_DIR_LOCKED naming `what` and the holder's
 * pid when another live process, or this one, holds it.
 */
export function acquireLock(path: string, what: string): HeldLock {
  if (heldHere.has(path)) throw locked(what, path, process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path)) return hold(path);
    const holder = readHolder(path);
    if (!isStale(path, holder)) throw locked(what, path, holder);
    try {
      unlinkSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  throw locked(what, path, readHolder(path));
}

function locked(what: string, path: string, pid: number | undefined): ChorusError {
  const by = pid === undefined ? 'another process (its pid is unreadable)' : pid === process.pid ? `this process (pid ${pid})` : `process ${pid}`;
  return new ChorusError(ErrorCode.DataDirLocked, `${what} is in use by ${by}; stop that node first, or delete ${path} if no Chorus process is running`);
}

function hold(path: string): HeldLock {
  heldHere.add(path);
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    heldHere.delete(path);
    process.removeListener('exit', release);
    // Only remove the file if it is still ours (someone may have deleted and retaken it).
    try {
      if (readHolder(path) === process.pid) unlinkSync(path);
    } catch {
      // best effort at exit: a stale lock is taken over by the next open
    }
  };
  process.on('exit', release);
  return { path, release };
}
