import { spawnSync } from 'node:child_process';
import { CHORUS, ROOT } from './proc.ts';

/** What one run of the real `chorus` command printed. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node bin/chorus.js ...args` to completion, as an operator would. */
export function chorusCli(...args: string[]): CliRun {
  const r = spawnSync(process.execPath, [CHORUS, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  if (r.error !== undefined) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a `chorus` command that must succeed; returns its stdout, trimmed. */
export function chorusOk(...args: string[]): string {
  const r = chorusCli(...args);
  if (r.code !== 0) throw new Error(`chorus ${args.join(' ')} exited with ${r.code}:\n${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}

/** A key made by `chorus key generate --show --json`. */
export interface GeneratedKey {
  readonly id: string;
  readonly primary: boolean;
  readonly file: string;
  readonly key: string;
}

/** `chorus key generate <where> --show --json`, where is `--data DIR` or `--key-file FILE`. */
export function generateKey(...where: string[]): GeneratedKey {
  return JSON.parse(chorusOk('key', 'generate', ...where, '--show', '--json')) as GeneratedKey;
}
