import { type Command, Option } from 'commander';
import { pino } from 'pino';
import { isChorusError } from '../core/errors.ts';
import { readConfigFile, resolveNodeConfig } from '../node/config.ts';
import type { ChorusNode } from '../node/runtime.ts';

/** Exit code for bad configuration, a taken port or a locked data directory. */
export const EXIT_CONFIG = 2;

/** `chorus start`: runs a node until SIGINT/SIGTERM, then leaves the mesh gracefully. */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run a Chorus node: HTTP API and mesh on one port, state in --data')
    .option('--config <file>', 'YAML config file (flags override environment override file)')
    .option('--data <dir>', 'data directory (default ./chorus-data)')
    .option('--name <name>', 'node name shown to peers (default: host name)')
    .option('--mesh <name>', 'mesh name (default home)')
    .option('--host <address>', 'bind address (default: loopback without a key, all interfaces with one)')
    .option('--port <port>', 'HTTP + mesh port; 0 takes a free one (default 0)')
    .option('--seed <host:port>', 'a peer to join through (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--key-file <file>', 'mesh keyring (default <data>/keyring.json)')
    .option('--insecure', 'run without encryption, also on non-loopback addresses')
    .addOption(new Option('--preset <name>', 'timer preset').choices(['lan', 'local', 'wan']))
    .addOption(new Option('--discovery <on|off>', 'UDP LAN discovery').choices(['on', 'off']))
    .option('--discovery-port <port>', 'UDP discovery port (default 7947)')
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']))
    .option('--node-id <id>', 'fixed node id (32 hex characters)')
    .addOption(new Option('--durability <mode>', 'SQLite sync: full (default) survives power loss, normal only process crashes').choices(['normal', 'full']))
    .option('--api-body-limit <bytes>', 'largest HTTP request body (default 1048576)')
    .option('--api-rate-limit <n>', 'HTTP requests per second per client address, 0 for no limit (default 200)')
    .option('--api-rate-burst <n>', 'HTTP requests a client may make at once (default 400)')
    .addOption(new Option('--api-loopback-open <on|off>', 'let loopback clients use the API without a token (default on)').choices(['on', 'off']))
    .action(async (o: Record<string, unknown>) => {
      const flags: Record<string, unknown> = {};
      // commander names options in camelCase; the config schema knows them by flag.
      for (const [k, v] of Object.entries(o)) if (k !== 'config') flags[`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`] = v;
      try {
        const file = typeof o.config === 'string' ? readConfigFile(o.config) : {};
        const config = resolveNodeConfig({ flags, env: process.env, file });
        const log = pino({ level: config.logLevel, base: { node: config.name } });
        // Loaded here, not at the top: client commands need none of the runtime.
        const { ChorusNode } = await import('../node/runtime.ts');
        const node = await ChorusNode.start(config, log);
        await waitForSignal(node);
      } catch (e) {
        if (isChorusError(e)) {
          console.error(`chorus: ${e.message}`);
          process.exitCode = EXIT_CONFIG;
          return;
        }
        throw e;
      }
    });
}

function waitForSignal(node: ChorusNode): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: string): void => {
      if (stopping) {
        process.exit(1);
      }
      stopping = true;
      node.log.info(`${signal}: leaving the mesh`);
      node.stop().then(
        () => {
          process.exitCode = 0;
          resolve();
        },
        (e: Error) => {
          node.log.error(`shutdown failed: ${e.message}`);
          process.exitCode = 1;
          resolve();
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
