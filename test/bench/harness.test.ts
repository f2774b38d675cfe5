import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Smoke test of the benchmark contract through the real command. It never looks at a ratio's
// value or at timing: those depend on the machine, and timing must not decide a test.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runBench(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/run.ts', ...args], { cwd: ROOT, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

function lastLine(text: string): string {
  const lines = text.trimEnd().split('\n');
  return lines[lines.length - 1] ?? '';
}

describe('bench harness', () => {
  it.each([
    ['hot-key-churn', 'state_bytes_vs_yjs', ['chorus', 'yjs']],
    ['store-merge', 'merge_per_s_vs_yjs', ['chorus', 'yjs']],
    // Process benchmarks: real `chorus start` nodes, mosquitto and Yjs child processes, all on 127.0.0.1.
    ['propagate-1', 'p50_vs_mosquitto_qos1', ['chorus', 'mosquitto_qos1', 'yjs_ws']],
    ['bulk-push-100k', 'writes_per_s_vs_yjs', ['chorus', 'chorus_batched', 'yjs_ws', 'mosquitto_qos1']],
    ['late-joiner', 'join_time_vs_yjs', ['chorus', 'yjs']],
  ])('%s --json --quick prints the contract as its last line', async (name, ratio, systems) => {
    const run = await runBench([name, '--json', '--quick']);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(lastLine(run.stdout)) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(expect.arrayContaining(['bench', 'results', 'ratios', 'goals', 'params']));
    expect(out['bench']).toBe(name);
    const results = out['results'] as Record<string, Record<string, unknown>>;
    for (const system of systems) {
      expect(Object.values(results[system] ?? {}).length, `results.${system}`).toBeGreaterThan(0);
      for (const v of Object.values(results[system] ?? {})) expect(Number.isFinite(v)).toBe(true);
    }
    const value = (out['ratios'] as Record<string, unknown>)[ratio];
    expect(typeof value).toBe('number');
    expect(Number.isFinite(value) && (value as number) > 0).toBe(true);
    expect(typeof (out['goals'] as Record<string, unknown>)[ratio]).toBe('string');
    expect(out['params']).toBeTypeOf('object');
  });

  it('refuses an unknown benchmark with exit code 2 and lists the known ones', async () => {
    const run = await runBench(['no-such-bench']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('hot-key-churn');
    expect(run.stderr).toContain('store-merge');
  });
});
