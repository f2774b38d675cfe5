// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Folders whose code must stay free of I/O, wall-clock time and ambient randomness. */
export const PURE_FOLDERS = ['core', 'store', 'membership', 'sync', 'routing', 'bindings'];

/** Modules that reach sockets, files, processes or storage engines. */
const IMPURE_MODULES = [
  'fs', 'fs/promises', 'net', 'dgram', 'dns', 'http', 'https', 'http2', 'tls', 'os',
  'child_process', 'cluster', 'worker_threads', 'process', 'timers', 'timers/promises',
  'crypto', 'path', 'url', 'readline', 'stream', 'events', 'v8', 'vm', 'perf_hooks',
  'ws', 'mqtt', 'aedes', 'better-sqlite3', 'ioredis', 'redis', 'fastify', 'undici',
];

/** The pure-core boundary, as one shareable rule set. */
export const pureCoreRules = {
  'no-restricted-imports': ['error', {
    paths: IMPURE_MODULES.map((name) => ({ name, message: 'Pure cores do no I/O: pass the capability in as a parameter.' })),
    patterns: [
      { group: ['node:*'], message: 'Pure cores may not import node:* modules.' },
      { group: ['**/storage/**', '**/transport/**', '**/node/**', '**/api/**', '**/cli/**'], message: 'Pure cores may not import I/O layers.' },
    ],
  }],
  'no-restricted-properties': ['error',
    { object: 'Date', property: 'now', message: 'Use the injected Clock.' },
    { object: 'Math', property: 'random', message: 'Use the injected Random.' },
    { object: 'crypto', property: 'randomUUID', message: 'Use the injected Random.' },
    { object: 'crypto', property: 'getRandomValues', message: 'Use the injected Random.' },
    { object: 'globalThis', property: 'setTimeout', message: 'Timers belong to the runtime, not the cores.' },
    { object: 'globalThis', property: 'setInterval', message: 'Timers belong to the runtime, not the cores.' },
    { object: 'performance', property: 'now', message: 'Use the injected Clock.' },
  ],
  'no-restricted-globals': ['error',
    { name: 'setTimeout', message: 'Timers belong to the runtime, not the cores.' },
    { name: 'setInterval', message: 'Timers belong to the runtime, not the cores.' },
    { name: 'setImmediate', message: 'Timers belong to the runtime, not the cores.' },
    { name: 'queueMicrotask', message: 'Scheduling belongs to the runtime, not the cores.' },
    { name: 'process', message: 'Pure cores may not touch the process.' },
    { name: 'require', message: 'Use ESM imports.' },
  ],
  'no-restricted-syntax': ['error',
    { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'new Date() reads the wall clock: use the injected Clock.' },
    { selector: "ImportExpression", message: 'Pure cores may not load modules dynamically.' },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'coverage/**', 'web/dist/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', performance: 'readonly', globalThis: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: PURE_FOLDERS.map((d) => `src/${d}/**/*.ts`),
    rules: pureCoreRules,
  },
);
