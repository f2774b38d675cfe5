import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { ChorusError, ErrorCode } from '../core/errors.ts';
import type { NodeConfig } from './config.ts';
import { CryptoRandom } from './system.ts';

/** The bind address: the configured one, else all interfaces with a key (or --insecure), else loopback. */
export function chooseBindHost(config: NodeConfig, keyFile: string): string {
  if (config.host !== undefined) return config.host;
  return existsSync(keyFile) || config.insecure ? '0.0.0.0' : '127.0.0.1';
}

/** Listens and returns the real port; a taken port or a missing address is a clear ChorusError. */
export async function listen(app: FastifyInstance, host: string, port: number): Promise<number> {
  try {
    await app.listen({ host, port });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ChorusError(ErrorCode.PortInUse, `port ${port} on ${host} is already in use`);
    if (code === 'EADDRNOTAVAIL') throw new ChorusError(ErrorCode.InvalidConfig, `cannot bind ${host}: no such local address`);
    throw e;
  }
  const addr = app.server.address();
  if (addr === null || typeof addr === 'string') throw new ChorusError(ErrorCode.InvalidConfig, 'the server has no TCP address');
  return addr.port;
}

/** How often a wildcard-bound node checks its interface addresses: CHORUS_ADDRESS_WATCH_MS, default 5000 (tests shorten it). */
export function addressWatchMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['CHORUS_ADDRESS_WATCH_MS'];
  if (raw === undefined || raw === '') return 5000;
  const ms = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(ms) || ms < 1) throw new ChorusError(ErrorCode.InvalidConfig, `environment variable CHORUS_ADDRESS_WATCH_MS must be a whole number of milliseconds >= 1, got ${JSON.stringify(raw)}`);
  return ms;
}

/** A random boot nonce for this process. */
export function randomNonce(): string {
  const r = new CryptoRandom();
  return `${r.uint32().toString(16)}${r.uint32().toString(16)}`;
}

