import { ChorusError, ErrorCode } from '../core/errors.ts';

/** A peer's network address split into host and port. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

// A DNS name or IPv4 address, or a bracketed IPv6 address (with an optional zone).
const HOST_RE = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}(?:%[A-Za-z0-9_.-]{1,32})?\])$/;
const PORT_RE = /^[0-9]{1,5}$/;

/** Parses 'host:port' (IPv6 hosts in brackets); undefined when malformed. Port 0 is allowed (not yet listening). */
export function parseAddress(s: unknown): HostPort | undefined {
  if (typeof s !== 'string' || s.length > 300) return undefined;
  const colon = s.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const host = s.slice(0, colon);
  const portText = s.slice(colon + 1);
  if (!HOST_RE.test(host) || !PORT_RE.test(portText)) return undefined;
  const port = Number(portText);
  return port <= 65535 ? { host, port } : undefined;
}

/** True when `s` is an address a link can dial: well-formed with a port from 1 to 65535. */
export function isDialable(s: unknown): s is string {
  const a = parseAddress(s);
  return a !== undefined && a.port > 0;
}

/** Validates a 'host:port' address, throwing CHORUS_INVALID_ADDRESS. */
export function checkAddress(s: unknown, what: string): string {
  if (parseAddress(s) === undefined) throw new ChorusError(ErrorCode.InvalidAddress, `${what} must be 'host:port' (IPv6 in brackets), got ${JSON.stringify(s)}`);
  return s as string;
}
