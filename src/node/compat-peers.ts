import { isIP } from 'node:net';
import type { CompatPeerView } from '../api/node-api.ts';
import { isWellFormed } from '../core/json.ts';
import type { MemberRecord } from '../membership/member.ts';

/** One peer known only through the consumer-scheduler endpoints (seed 004), as stored. */
export interface CompatPeer {
  readonly uuid: string;
  /** The IP it spoke from (POST /sync) or announced (POST /ip). */
  readonly address: string;
  /** Wall-clock milliseconds it was last heard from. */
  readonly lastSeenMs: number;
}

/** Limits of the registry. */
export interface CompatPeersOptions {
  /** Peers kept; the least recently heard from is forgotten first. */
  readonly maxPeers: number;
  /** A peer heard from within this long counts as available (the seed's consumers sync regularly). */
  readonly availableForMs: number;
}

const DEFAULTS: CompatPeersOptions = {
  maxPeers: 1024, // far above a household's consumers; bounds what an unauthenticated loopback caller can grow
  availableForMs: 10 * 60_000, // several of the seed's sync periods
};

// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;

/** True when `uuid` is an acceptable peer id: 1 to 128 characters, none of them a control character. */
export function isCompatUuid(uuid: unknown): uuid is string {
  return typeof uuid === 'string' && uuid.length >= 1 && uuid.length <= 128 && !CONTROL_RE.test(uuid) && isWellFormed(uuid);
}

/** `ip:port`, with an IPv6 literal in brackets as mesh addresses are written. */
export function hostPort(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** A mesh member as the compatibility endpoints show it. */
export function memberView(m: MemberRecord, lastContactAgoMs: number | null, nowMs: number): CompatPeerView {
  return {
    uuid: m.nodeId,
    address: hostPort(m.addresses[0] ?? '', m.port),
    available: m.status === 'alive',
    lastSeen: lastContactAgoMs === null ? null : new Date(nowMs - lastContactAgoMs).toISOString(),
    kind: 'member',
  };
}

/**
 * Peers that are not mesh members but speak the consumer scheduler's /sync and /ip, kept by
 * uuid. An address change replaces the address and keeps the uuid: identity never follows the
 * address. Persisting is the caller's (`toStored()` is plain JSON).
 */
export class CompatPeers {
  /** In order of last contact, oldest first (a Map keeps insertion order; `seen` re-inserts). */
  private readonly peers = new Map<string, CompatPeer>();
  private readonly opts: CompatPeersOptions;

  /** Restores from what `toStored()` returned earlier; malformed entries are dropped. */
  constructor(stored: unknown = [], opts: Partial<CompatPeersOptions> = {}) {
    this.opts = { ...DEFAULTS, ...opts };
    const entries = Array.isArray(stored) ? (stored as unknown[]).filter(isStoredPeer) : [];
    for (const p of [...entries].sort((a, b) => a.lastSeenMs - b.lastSeenMs)) this.seen(p.uuid, p.address, p.lastSeenMs);
  }

  /** Records that `uuid` was heard from at `address`; returns its entry. */
  seen(uuid: string, address: string, nowMs: number): CompatPeer {
    const peer: CompatPeer = { uuid, address, lastSeenMs: nowMs };
    this.peers.delete(uuid);
    this.peers.set(uuid, peer);
    while (this.peers.size > this.opts.maxPeers) {
      const oldest = this.peers.keys().next().value;
      if (oldest === undefined) break;
      this.peers.delete(oldest);
    }
    return peer;
  }

  /** The peer's entry, or undefined. */
  get(uuid: string): CompatPeer | undefined {
    return this.peers.get(uuid);
  }

  /** Number of peers held. */
  get size(): number {
    return this.peers.size;
  }

  /** One peer as the API shows it. */
  view(p: CompatPeer, nowMs: number): CompatPeerView {
    return { uuid: p.uuid, address: p.address, available: nowMs - p.lastSeenMs <= this.opts.availableForMs, lastSeen: new Date(p.lastSeenMs).toISOString(), kind: 'compat' };
  }

  /** Every peer as the API shows it, most recently heard from first. */
  views(nowMs: number): CompatPeerView[] {
    return [...this.peers.values()].reverse().map((p) => this.view(p, nowMs));
  }

  /** Plain JSON for storage meta. */
  toStored(): CompatPeer[] {
    return [...this.peers.values()];
  }
}

function isStoredPeer(x: unknown): x is CompatPeer {
  if (typeof x !== 'object' || x === null) return false;
  const p = x as Record<string, unknown>;
  return isCompatUuid(p['uuid']) && typeof p['address'] === 'string' && isIP(p['address']) !== 0 && typeof p['lastSeenMs'] === 'number' && Number.isFinite(p['lastSeenMs']);
}
