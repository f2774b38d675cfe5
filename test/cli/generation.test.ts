import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, tempDir } from '../node/proc.ts';
import { DataDir } from '../../src/storage/data-dir.ts';
import { runCli } from './helpers.ts';

// `chorus generation show|set` on a data directory of a stopped node (ESPGossip's setRevManually).

const root = tempDir('chorus-gen-');
afterAll(() => cleanup(root));

describe('chorus generation', () => {
  it('shows and sets the generation; refuses to go below it unless forced', async () => {
    const data = join(root, 'a');
    mkdirSync(data);
    writeFileSync(join(data, 'generation'), '7\n');
    expect((await runCli(['generation', 'show', '--data', data])).stdout.trim()).toBe('7');
    const up = await runCli(['generation', 'set', '12', '--data', data, '--json']);
    expect(up.code).toBe(0);
    expect(JSON.parse(up.stdout)).toEqual({ previous: 7, generation: 12 });
    expect(readFileSync(join(data, 'generation'), 'utf8').trim()).toBe('12');
    const down = await runCli(['generation', 'set', '3', '--data', data]);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/generation 3 is below the current 12.*--force/);
    expect(readFileSync(join(data, 'generation'), 'utf8').trim()).toBe('12');
    const forced = await runCli(['generation', 'set', '3', '--data', data, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/generation set to 3 \(was 12\); the next start runs as 4/);
  });

  it('refuses while a node holds the data directory', async () => {
    const running = DataDir.open(join(root, 'held'));
    try {
      const r = await runCli(['generation', 'set', '5', '--data', join(root, 'held')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/in use/);
    } finally {
      running.close();
    }
  });

  it('names what is wrong: a bad number, a missing directory', async () => {
    const bad = await runCli(['generation', 'set', '-1', '--data', root]);
    expect(bad.code).toBe(2);
    const word = await runCli(['generation', 'set', 'ten', '--data', root]);
    expect(word.code).toBe(2);
    expect(word.stderr).toMatch(/generation must be a whole number, got "ten"/);
    const missing = await runCli(['generation', 'show', '--data', join(root, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/does not exist/);
  });
});
