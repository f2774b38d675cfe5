import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, ExitCode } from './exit-codes.ts';

/** Default data directory, as `chorus start` uses. */
export const DEFAULT_DATA = './chorus-data';

/** The options every client command takes to find its node. */
export interface TargetOptions {
  readonly url?: string;
  readonly data?: string;
  readonly token?: string;
}

/** The node a command talks to, and how. */
export interface Target {
  /** Base URL, `http(s)://host:port`, no trailing slash. */
  readonly url: string;
  readonly token: string | undefined;
  /** Where the URL came from, for error messages (`--url`, or the node.json path). */
  readonly from: string;
}

/** Checks a base URL: http or https, no query; returns it without a trailing slash. */
export function normalizeUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new CliError(ExitCode.Usage, `--url "${text}" is not a URL (expected http://host:port)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CliError(ExitCode.Usage, `--url must be http:// or https://, got "${u.protocol}"`);
  if (u.search !== '' || u.hash !== '') throw new CliError(ExitCode.Usage, '--url takes no query or fragment');
  return u.href.replace(/\/+$/, '');
}

/** Reads the URL a running `chorus start --data DIR` wrote to DIR/node.json. */
function urlFromDataDir(dir: string): { url: string; from: string } {
  const file = join(dir, 'node.json');
  if (!existsSync(file)) throw new CliError(ExitCode.Unreachable, `no ${file}: no node has run with --data ${dir} (start one with \`chorus start --data ${dir}\`, or pass --url)`);
  let url: unknown;
  try {
    url = (JSON.parse(readFileSync(file, 'utf8')) as { url?: unknown }).url;
  } catch (e) {
    throw new CliError(ExitCode.Failure, `cannot read ${file}: ${(e as Error).message}`);
  }
  if (typeof url !== 'string') throw new CliError(ExitCode.Failure, `${file} names no url`);
  return { url: normalizeUrl(url), from: file };
}

/** A variable's value, or undefined when unset or empty. */
function fromEnv(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/**
 * Resolves the node (`--url`; else the node.json of `--data`, $CHORUS_DATA as `chorus start`
 * reads it, or ./chorus-data) and the token (`--token`, else $CHORUS_TOKEN).
 */
export function resolveTarget(o: TargetOptions, env: Readonly<Record<string, string | undefined>>): Target {
  if (o.url !== undefined && o.data !== undefined) throw new CliError(ExitCode.Usage, 'give --url or --data, not both');
  const { url, from } = o.url !== undefined ? { url: normalizeUrl(o.url), from: '--url' } : urlFromDataDir(o.data ?? fromEnv(env, 'CHORUS_DATA') ?? DEFAULT_DATA);
  return { url, token: o.token ?? fromEnv(env, 'CHORUS_TOKEN'), from };
}
