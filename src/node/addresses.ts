import { networkInterfaces } from 'node:os';

/** True for 127.0.0.0/8, ::1 and 'localhost'. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** True for the any-address binds. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/** This machine's non-internal IPv4 addresses, sorted, for advertising to peers. */
export function lanAddresses(read: typeof networkInterfaces = networkInterfaces): string[] {
  const out: string[] = [];
  for (const list of Object.values(read())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push(a.address);
  }
  return [...new Set(out)].sort();
}

/** The address peers should dial: the bind address, or for a wildcard bind the first LAN address. */
export function advertisedAddress(bindHost: string, lan: readonly string[] = lanAddresses()): string {
  if (!isWildcard(bindHost)) return bindHost;
  return lan[0] ?? '127.0.0.1';
}
