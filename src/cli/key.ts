import { type Command, CommanderError } from 'commander';
import { join } from 'node:path';
import { ChorusError, ErrorCode, isChorusError } from '../core/errors.ts';
import { Keyring, parseKey, type KeyInfo } from '../transport/keyring.ts';

/** Where a key command finds the keyring. */
interface FileOptions {
  data?: string;
  keyFile?: string;
}

/** Default data directory, as `chorus start` uses. */
const DEFAULT_DATA = './chorus-data';

function keyringPath(o: FileOptions): string {
  if (o.data !== undefined && o.keyFile !== undefined) throw new ChorusError(ErrorCode.InvalidConfig, 'give --data or --key-file, not both');
  return o.keyFile ?? join(o.data ?? DEFAULT_DATA, 'keyring.json');
}

/** Runs a key command body; any ChorusError is bad input: printed, and the exit code is 2. */
function run(body: () => void): void {
  try {
    body();
  } catch (e) {
    if (!isChorusError(e)) throw e;
    console.error(`chorus key: ${e.message}`);
    throw new CommanderError(2, e.code, e.message);
  }
}

/** Loads the keyring, or undefined when the file does not exist. */
function loadIfPresent(path: string): Keyring | undefined {
  try {
    return Keyring.load(path);
  } catch (e) {
    if (isChorusError(e, ErrorCode.KeyringNotFound)) return undefined;
    throw e;
  }
}

function withFileOptions(cmd: Command): Command {
  return cmd.option('--data <dir>', `data directory; the keyring is <dir>/keyring.json (default ${DEFAULT_DATA})`).option('--key-file <file>', 'keyring file (instead of --data)');
}

/** `chorus key`: the mesh keyring (generate, install, use, remove, list). */
export function registerKey(program: Command): void {
  const key = program.command('key').description('manage the mesh keyring: rotate with install (everywhere) → use (everywhere) → remove (everywhere)');

  withFileOptions(key.command('generate'))
    .description('add a new random key (the first one becomes primary; the file is created if absent)')
    .option('--show', 'also print the key (base64) to install on the other nodes')
    .option('--json', 'print one JSON object')
    .action((o: FileOptions & { show?: boolean; json?: boolean }) =>
      run(() => {
        const path = keyringPath(o);
        const existing = loadIfPresent(path);
        const ring = existing ?? Keyring.create();
        const info = existing === undefined ? primaryInfo(ring) : ring.generate();
        ring.save(path);
        const shown = o.show ? ring.exportKey(info.id) : undefined;
        if (o.json) console.log(JSON.stringify({ id: info.id, primary: info.primary, file: path, ...(shown === undefined ? {} : { key: shown }) }));
        else {
          console.log(info.id);
          if (shown !== undefined) console.log(shown);
          if (!info.primary) console.error(`key ${info.id} installed, not primary: once every node has it, run: chorus key use ${info.id}`);
        }
      }),
    );

  withFileOptions(key.command('install'))
    .description('install a key given as base64 (from `generate --show` on another node); creates the keyring if absent')
    .argument('<base64>', 'the key, 44 characters of base64')
    .action((base64: string, o: FileOptions) =>
      run(() => {
        const path = keyringPath(o);
        const existing = loadIfPresent(path);
        const ring = existing ?? Keyring.create(parseKey(base64));
        const info = existing === undefined ? primaryInfo(ring) : ring.install(base64);
        ring.save(path);
        console.log(info.id);
      }),
    );

  withFileOptions(key.command('use'))
    .description('make an installed key the primary (the one that encrypts)')
    .argument('<id>', 'key id (8 hex characters, see `chorus key list`)')
    .action((id: string, o: FileOptions) =>
      run(() => {
        const path = keyringPath(o);
        const ring = Keyring.load(path);
        ring.use(id);
        ring.save(path);
        console.log(`primary: ${ring.primaryId}`);
      }),
    );

  withFileOptions(key.command('remove'))
    .description('remove an installed key (never the primary)')
    .argument('<id>', 'key id (8 hex characters)')
    .action((id: string, o: FileOptions) =>
      run(() => {
        const path = keyringPath(o);
        const ring = Keyring.load(path);
        ring.remove(id);
        ring.save(path);
        console.log(`removed ${id.trim().toLowerCase()}`);
      }),
    );

  withFileOptions(key.command('list'))
    .description('list installed keys (ids only, never key material)')
    .option('--json', 'print a JSON array')
    .action((o: FileOptions & { json?: boolean }) =>
      run(() => {
        const keys = Keyring.load(keyringPath(o)).list();
        if (o.json) console.log(JSON.stringify(keys));
        else for (const k of keys) console.log(`${k.id}  ${k.primary ? 'primary' : '       '}  ${k.createdAt}`);
      }),
    );
}

function primaryInfo(ring: Keyring): KeyInfo {
  return ring.list().find((k) => k.primary) as KeyInfo;
}
