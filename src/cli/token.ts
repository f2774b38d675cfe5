import { type Command, CommanderError, Option } from 'commander';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createToken, listTokens, revokeToken, SCOPES, TOKEN_FILE, type TokenRecord } from '../api/tokens.ts';
import { ErrorCode, isChorusError } from '../core/errors.ts';
import { acquireLock } from '../storage/lock-file.ts';

/** Default data directory, as `chorus start` uses. */
const DEFAULT_DATA = './chorus-data';
/** Taken while a command rewrites tokens.json, so two commands at once do not lose an edit. */
const EDIT_LOCK = 'tokens.lock';

interface DataOption {
  data?: string;
  json?: boolean;
}

/** The data directory: --data, else CHORUS_DATA (as `chorus start` reads it), else the default. */
function dataDir(o: DataOption): string {
  return resolve(o.data ?? process.env['CHORUS_DATA'] ?? DEFAULT_DATA);
}

/** Runs a token command body; any ChorusError is bad input: printed, and the exit code is 2. */
function run(body: () => void): void {
  try {
    body();
  } catch (e) {
    if (!isChorusError(e)) throw e;
    console.error(`chorus token: ${e.message}`);
    throw new CommanderError(2, e.code, e.message);
  }
}

/**
 * Runs `edit` on the token file while holding the edit lock (the running node only reads the
 * file). Only `create` makes a missing directory; other edits of one find no tokens there.
 */
function editing<T>(dir: string, create: boolean, edit: (file: string) => T): T {
  if (create) mkdirSync(dir, { recursive: true, mode: 0o700 });
  else if (!existsSync(dir)) return edit(join(dir, TOKEN_FILE));
  const lock = waitForLock(join(dir, EDIT_LOCK), `token file ${join(dir, TOKEN_FILE)}`);
  try {
    return edit(join(dir, TOKEN_FILE));
  } finally {
    lock.release();
  }
}

/** Edits are short: another `chorus token` holding the lock is waited for, up to 5 s. */
function waitForLock(path: string, what: string): ReturnType<typeof acquireLock> {
  const deadline = Date.now() + 5000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      return acquireLock(path, what);
    } catch (e) {
      if (!isChorusError(e, ErrorCode.DataDirLocked) || Date.now() > deadline) throw e;
      Atomics.wait(pause, 0, 0, 20);
    }
  }
}

function row(t: TokenRecord): string {
  const state = t.revokedAt === undefined ? 'active' : `revoked ${t.revokedAt}`;
  return `${t.id}  ${t.scopes.join(',').padEnd(5)}  ${t.createdAt}  ${state.padEnd(7)}  ${t.name}`;
}

/** `chorus token`: API tokens (create, list, revoke), kept hashed in <data>/tokens.json. */
export function registerToken(program: Command): void {
  const token = program.command('token').description('manage API tokens: scopes read ⊂ write ⊂ admin; a running node sees changes on its next request');
  const dataOption = (): Option => new Option('--data <dir>', `data directory; tokens live in <dir>/${TOKEN_FILE} (default $CHORUS_DATA or ${DEFAULT_DATA})`);

  token
    .command('create')
    .description('create a token and print it once: it cannot be shown again')
    .requiredOption('--name <name>', 'what the token is for, e.g. "home-assistant"')
    .addOption(new Option('--scope <scope>', 'what it may do: read, write (implies read) or admin (implies both)').choices([...SCOPES]).makeOptionMandatory())
    .addOption(dataOption())
    .option('--json', 'print one JSON object (the record and the token)')
    .action((o: DataOption & { name: string; scope: string }) =>
      run(() => {
        const made = editing(dataDir(o), true, (file) => createToken(file, { name: o.name, scopes: [o.scope] }));
        if (o.json) console.log(JSON.stringify({ ...made.record, token: made.token }));
        else {
          console.log(made.token);
          console.error(`token ${made.record.id} (${made.record.scopes.join(',')}) created: store it now, it is not shown again`);
        }
      }),
    );

  token
    .command('list')
    .description('list tokens (ids, names, scopes, state; never secrets)')
    .addOption(dataOption())
    .option('--json', 'print a JSON array')
    .action((o: DataOption) =>
      run(() => {
        const all = listTokens(join(dataDir(o), TOKEN_FILE));
        if (o.json) console.log(JSON.stringify(all));
        else if (all.length === 0) console.error('no tokens: create one with `chorus token create --name N --scope read|write|admin`');
        else for (const t of all) console.log(row(t));
      }),
    );

  token
    .command('revoke')
    .description('revoke a token: a running node refuses it from its next request on')
    .argument('<id>', 'token id (8 hex characters, see `chorus token list`)')
    .addOption(dataOption())
    .option('--json', 'print the revoked record as JSON')
    .action((id: string, o: DataOption) =>
      run(() => {
        const r = editing(dataDir(o), false, (file) => revokeToken(file, id));
        if (o.json) console.log(JSON.stringify({ ...r.record, alreadyRevoked: r.already }));
        else console.log(r.already ? `token ${r.record.id} was already revoked at ${r.record.revokedAt ?? '?'}` : `revoked ${r.record.id}`);
      }),
    );
}
