import { type Command, InvalidArgumentError } from 'commander';
import type { LiveEventKind } from '../../api/events.ts';
import { DEFAULT_DATA, type TargetOptions } from './target.ts';

/** Options every client command has: where the node is, the token, and the output form. */
export interface CommonOptions extends TargetOptions {
  readonly json?: boolean;
}

/** Adds --url, --data, --token and --json to a command. */
export function withCommonOptions(cmd: Command, json = 'machine-readable output: one JSON document'): Command {
  return cmd
    .option('--url <url>', 'the node, e.g. http://127.0.0.1:7946')
    .option('--data <dir>', `a local node's data directory; its node.json names the URL (default $CHORUS_DATA or ${DEFAULT_DATA})`)
    .option('--token <token>', 'API token, sent as "Authorization: Bearer" (default $CHORUS_TOKEN)')
    .option('--json', json);
}

/** Parses a non-negative integer option. */
export function nonNegativeInt(name: string) {
  return (v: string): number => {
    const n = /^\d{1,15}$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be a non-negative integer, got "${v}"`);
    return n;
  };
}

/** Parses `--replicas`: a count of peers, or `all`. */
export function replicas(v: string): number | 'all' {
  if (v === 'all') return 'all';
  return nonNegativeInt('--replicas')(v);
}

const KINDS: readonly LiveEventKind[] = ['object', 'member', 'binding'];

/** Parses `--kinds object,member`. */
export function kinds(v: string): LiveEventKind[] {
  const list = v.split(',').map((k) => k.trim());
  const bad = list.filter((k) => !(KINDS as readonly string[]).includes(k));
  if (bad.length > 0 || list.length === 0) throw new InvalidArgumentError(`--kinds is a comma-separated list of ${KINDS.join(', ')}; got "${v}"`);
  return [...new Set(list)] as LiveEventKind[];
}

/** The help text of one command: its examples and the exit codes it uses. */
export function examples(lines: readonly string[], exits: string): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n\nExit codes: ${exits} (see \`chorus help\`)`;
}

/** Checks an object id argument; the empty id would address the list route. */
export function objectId(v: string): string {
  if (v.length === 0) throw new InvalidArgumentError('the object id is empty');
  return v;
}
