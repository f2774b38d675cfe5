import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

// Proves that eslint.config.js enforces the pure-core boundary (DESIGN.md, Layers): the
// protocol cores may not reach I/O, the wall clock, timers or ambient randomness.
// lintText matches the config by path, so the linted files need not exist.

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The folders DESIGN.md declares pure. */
const PURE_FOLDERS = ['core', 'store', 'membership', 'sync', 'routing', 'bindings'] as const;

interface Violation {
  readonly name: string;
  readonly code: string;
  readonly ruleId: string;
}

/** Each snippet uses what it imports, so the only complaint is the boundary's. */
const VIOLATIONS: readonly Violation[] = [
  { name: "named import from 'node:fs'", code: "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n", ruleId: 'no-restricted-imports' },
  { name: "default import from 'fs'", code: "import fs from 'fs';\nexport const files = fs;\n", ruleId: 'no-restricted-imports' },
  { name: "import from 'ws'", code: "import WebSocket from 'ws';\nexport const Socket = WebSocket;\n", ruleId: 'no-restricted-imports' },
  { name: "import from 'better-sqlite3'", code: "import Database from 'better-sqlite3';\nexport const Db = Database;\n", ruleId: 'no-restricted-imports' },
  { name: 'Date.now()', code: 'export const stamp = (): number => Date.now();\n', ruleId: 'no-restricted-properties' },
  { name: 'Math.random()', code: 'export const roll = (): number => Math.random();\n', ruleId: 'no-restricted-properties' },
  { name: 'crypto.randomUUID()', code: 'export const fresh = (): string => crypto.randomUUID();\n', ruleId: 'no-restricted-properties' },
  { name: 'setTimeout', code: 'export const later = (): unknown => setTimeout(() => {}, 1);\n', ruleId: 'no-restricted-globals' },
  { name: 'setInterval', code: 'export const tick = (f: () => void): unknown => setInterval(f, 1000);\n', ruleId: 'no-restricted-globals' },
  { name: 'new Date()', code: 'export const today = (): Date => new Date();\n', ruleId: 'no-restricted-syntax' },
];

/** A pure module as it should be written: types from core, time from an injected Clock. */
const CLEAN_PURE = `import type { Clock } from '../core/clock.ts';
import type { NodeId, ObjectId } from '../core/ids.ts';

/** Stamps a write with the injected clock's reading. */
export function stamp(clock: Clock, origin: NodeId, objectId: ObjectId): string {
  return \`\${origin}/\${objectId}@\${clock.now()}\`;
}
`;

/** A runtime module: files and the wall clock are its job. */
const RUNTIME = `import { readFileSync } from 'node:fs';

/** Reads a file and notes when. */
export function readStamped(path: string): { text: string; at: number } {
  return { text: readFileSync(path, 'utf8'), at: Date.now() };
}
`;

let eslint: ESLint;

async function lint(code: string, filePath: string): Promise<Linter.LintMessage[]> {
  const results = await eslint.lintText(code, { filePath, warnIgnored: true });
  expect(results).toHaveLength(1);
  const messages = results[0]?.messages ?? [];
  // A parse failure or an ignored path would make every assertion below meaningless.
  expect(messages.filter((m) => m.fatal === true)).toEqual([]);
  return messages;
}

const errorsOf = (messages: readonly Linter.LintMessage[]) => messages.filter((m) => m.severity === 2);

beforeAll(() => {
  eslint = new ESLint({ cwd: repoRoot });
});

describe('pure-core boundary', () => {
  for (const folder of PURE_FOLDERS) {
    for (const { name, code, ruleId } of VIOLATIONS) {
      it(`src/${folder} rejects ${name} (${ruleId})`, async () => {
        const errors = errorsOf(await lint(code, `src/${folder}/x.ts`));
        expect(errors.map((m) => m.ruleId)).toContain(ruleId);
      });
    }
  }

  it.each(PURE_FOLDERS)('src/%s accepts a clean pure module', async (folder) => {
    expect(errorsOf(await lint(CLEAN_PURE, `src/${folder}/x.ts`))).toEqual([]);
  });

  it.each(PURE_FOLDERS)('src/%s rejects importing the runtime layer', async (folder) => {
    const code = "import { systemClock } from '../node/system.ts';\nexport const clock = systemClock;\n";
    const errors = errorsOf(await lint(code, `src/${folder}/x.ts`));
    expect(errors.map((m) => m.ruleId)).toContain('no-restricted-imports');
  });

  it('src/node may read files and the wall clock', async () => {
    expect(errorsOf(await lint(RUNTIME, 'src/node/x.ts'))).toEqual([]);
  });
});
