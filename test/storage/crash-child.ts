// Child process of crash.test.ts: writes records through a GroupCommitter into SQLite and
// prints "acked <n>" only once each write's submit has resolved; the parent SIGKILLs it.
// Usage: node --import tsx crash-child.ts <db path> <object prefix> <full|normal>
import { GroupCommitter } from '../../src/storage/group-commit.ts';
import { SqliteStorage } from '../../src/storage/sqlite-storage.ts';
import { A, rec } from './fixtures.ts';

const [dbPath, prefix, synchronous] = process.argv.slice(2) as [string, string, 'full' | 'normal'];
const committer = new GroupCommitter(SqliteStorage.open(dbPath, { synchronous }));
const MAX_OUTSTANDING = 400;
let next = 0;
let outstanding = 0;

function pump(): void {
  // A burst per turn, bounded, so writes keep flowing into several concurrent groups.
  for (let i = 0; i < 50 && outstanding < MAX_OUTSTANDING; i++) {
    const n = ++next;
    outstanding++;
    committer
      .submit({ journal: [{ op: 'put', record: rec(`${prefix}-${n}`, 'v', { n, pad: 'x'.repeat(n % 200) }, n, A) }], watermarks: { [A]: n } })
      .then(
        () => {
          outstanding--;
          // stdout to a pipe is synchronous on Linux: once written, the parent will read it
          process.stdout.write(`acked ${n}\n`);
        },
        (e: unknown) => {
          process.stderr.write(`submit ${n} failed: ${String(e)}\n`);
          process.exit(2);
        },
      );
  }
  setImmediate(pump);
}

process.stdout.write('ready\n');
pump();
