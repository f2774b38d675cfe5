import { ChorusError, ErrorCode } from '../core/errors.ts';
import { resolveMembershipConfig, type MembershipConfig, type MembershipPreset } from '../membership/config.ts';

/** Tunables of the sync engine (anti-entropy, eager push, bootstrap, handshake). */
export interface SyncConfig {
  /** Base anti-entropy period; scaled up for meshes above 32 members (`scaledSyncIntervalMs`). */
  readonly syncIntervalMs: number;
  /** Push local writes at once (else they spread by anti-entropy only). */
  readonly eagerPush: boolean;
  /** Up to this many alive members (ourselves included), a write is pushed to every peer. */
  readonly fullFanoutMaxMembers: number;
  /** Above it: random peers a write is pushed to; each forwards what was new to it to as many others. */
  readonly pushFanout: number;
  /** How many times a push is forwarded (1: once, reaching about fanout + fanout² nodes). */
  readonly pushMaxHops: number;
  /** Byte budget of one ACK/ACK2/PUSH/SNAPSHOT_CHUNK batch of records. */
  readonly maxBatchBytes: number;
  /** Record (and member record) budget of one batch. */
  readonly maxBatchRecords: number;
  /** Membership updates piggybacked on each outgoing message. */
  readonly gossipPerMessage: number;
  /** Largest message accepted from the wire (`decodeMessage`'s limit). */
  readonly maxMessageBytes: number;
  /** A snapshot stream silent this long resumes from its cursor with another peer. */
  readonly snapshotTimeoutMs: number;
  /** First retry of the seeds while no peer is alive; doubles up to the maximum. */
  readonly seedRetryMinMs: number;
  /** Longest wait between seed retries. */
  readonly seedRetryMaxMs: number;
  /** How long a dead member is still tried now and then (a healed partition rejoins). */
  readonly reconnectTimeoutMs: number;
  /** How often tombstones past the store's TTL that every live member holds are collected (0: never). */
  readonly gcIntervalMs: number;
  /** Membership timers: a preset name. */
  readonly membershipPreset: MembershipPreset;
  /** Membership timers: values overriding the preset. */
  readonly membership: Readonly<Partial<MembershipConfig>>;
}

/** The names of the presets. */
export type SyncPreset = 'lan' | 'local' | 'wan';

const LAN: SyncConfig = Object.freeze({
  syncIntervalMs: 10_000, // ESPGossip's round interval: pushes do the fast path, this only repairs
  eagerPush: true, // a light switched on one node shows on the others within a round trip
  fullFanoutMaxMembers: 16, // a home mesh is small: n direct sends beat a second hop's latency
  pushFanout: 4, // 4 + 16 forwards reach a large mesh's neighbourhood; anti-entropy does the rest
  pushMaxHops: 1, // forwarded once: cost per write stays fanout + fanout² messages, whatever the mesh size
  maxBatchBytes: 256 * 1024, // a catch-up batch stays a fraction of a second on a LAN
  maxBatchRecords: 2000, // bounds per-batch CPU (merge, change events) as well as bytes
  gossipPerMessage: 8, // a few KiB of member records on any frame
  maxMessageBytes: 4 * 1024 * 1024, // a batch, a 10,000-member digest and gossip fit with room
  snapshotTimeoutMs: 5_000, // a LAN peer that sends nothing for 5 s is gone or overloaded
  seedRetryMinMs: 1_000, // a seed that is still booting is retried quickly
  seedRetryMaxMs: 30_000, // an absent seed is not hammered
  reconnectTimeoutMs: 24 * 3600 * 1000, // Serf's reconnect_timeout: a member down for a day is given up on
  gcIntervalMs: 60_000, // tombstones live for days: a minute's delay costs nothing, a scan per minute is cheap
  membershipPreset: 'lan', // the membership timers of the same network class
  membership: Object.freeze({}),
});

const LOCAL: SyncConfig = Object.freeze({
  ...LAN,
  syncIntervalMs: 1_000, // tests and demos converge in a second or two
  fullFanoutMaxMembers: 16, // as on a LAN: the fanout rule does not depend on latency
  pushFanout: 3, // small test meshes rarely exceed the full-fanout size
  maxBatchBytes: 64 * 1024, // small batches make multi-round catch-ups easy to exercise
  maxBatchRecords: 500, // as above
  snapshotTimeoutMs: 1_000, // loopback peers answer in microseconds
  seedRetryMinMs: 200, // loopback seeds come up within milliseconds
  seedRetryMaxMs: 2_000, // keep tests fast when a seed starts late
  reconnectTimeoutMs: 300_000, // tests heal partitions within minutes
  gcIntervalMs: 5_000, // tests with a short TTL see collection within seconds
  membershipPreset: 'local', // fast membership timers
});

const WAN: SyncConfig = Object.freeze({
  ...LAN,
  syncIntervalMs: 60_000, // memberlist WAN push-pull: links are slow and cost money
  fullFanoutMaxMembers: 8, // each direct send costs a slow link
  pushFanout: 3, // memberlist WAN gossip fanout
  maxBatchBytes: 128 * 1024, // shorter bursts on slow links
  maxBatchRecords: 1000, // as above
  snapshotTimeoutMs: 15_000, // round trips of hundreds of ms with spikes of seconds
  seedRetryMinMs: 2_000, // reconnects cost more
  seedRetryMaxMs: 60_000, // as above
  reconnectTimeoutMs: 72 * 3600 * 1000, // WAN outages (a site offline over a weekend) last longer
  membershipPreset: 'wan', // the membership timers of the same network class
});

/** The presets: `lan` (the default), `local` (fast timers for tests), `wan`. */
export const SYNC_PRESETS: Readonly<Record<SyncPreset, SyncConfig>> = Object.freeze({ lan: LAN, local: LOCAL, wan: WAN });

const DAY_MS = 24 * 3600 * 1000;
// Integer keys with their accepted ranges.
const RULES: Readonly<Record<string, { min: number; max: number }>> = {
  syncIntervalMs: { min: 1, max: DAY_MS },
  fullFanoutMaxMembers: { min: 1, max: 1_000_000 },
  pushFanout: { min: 1, max: 1000 },
  pushMaxHops: { min: 0, max: 15 },
  maxBatchBytes: { min: 1024, max: 256 * 1024 * 1024 },
  maxBatchRecords: { min: 1, max: 65_536 },
  gossipPerMessage: { min: 0, max: 256 },
  maxMessageBytes: { min: 2048, max: 1024 * 1024 * 1024 },
  snapshotTimeoutMs: { min: 1, max: DAY_MS },
  seedRetryMinMs: { min: 1, max: DAY_MS },
  seedRetryMaxMs: { min: 1, max: DAY_MS },
  reconnectTimeoutMs: { min: 0, max: 365 * DAY_MS },
  gcIntervalMs: { min: 0, max: 365 * DAY_MS },
};

const invalid = (message: string): ChorusError => new ChorusError(ErrorCode.InvalidConfig, message);

/** Checks a complete config, throwing CHORUS_INVALID_CONFIG naming the first bad key. */
export function validateSyncConfig(config: Readonly<Record<string, unknown>>): SyncConfig {
  const known = new Set([...Object.keys(RULES), 'eagerPush', 'membershipPreset', 'membership']);
  for (const key of Object.keys(config)) if (!known.has(key)) throw invalid(`sync config: unknown key ${key}`);
  for (const [key, rule] of Object.entries(RULES)) {
    const v = config[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < rule.min || v > rule.max) {
      throw invalid(`sync config: ${key} must be an integer in ${rule.min}..${rule.max}, got ${String(v)}`);
    }
  }
  if (typeof config.eagerPush !== 'boolean') throw invalid(`sync config: eagerPush must be a boolean, got ${String(config.eagerPush)}`);
  const c = config as unknown as SyncConfig;
  if (c.seedRetryMaxMs < c.seedRetryMinMs) throw invalid('sync config: seedRetryMaxMs must not be below seedRetryMinMs');
  if (c.maxMessageBytes <= c.maxBatchBytes) throw invalid('sync config: maxMessageBytes must exceed maxBatchBytes (a batch must fit a message)');
  if (!['lan', 'local', 'wan'].includes(c.membershipPreset)) throw invalid(`sync config: membershipPreset must be lan, local or wan, got ${String(c.membershipPreset)}`);
  if (typeof c.membership !== 'object' || c.membership === null) throw invalid('sync config: membership must be an object of overrides');
  resolveMembershipConfig(c.membershipPreset, c.membership); // throws naming the membership key
  return c;
}

/** A preset with `overrides` merged over it, validated and frozen. */
export function resolveSyncConfig(preset: SyncPreset = 'lan', overrides: Readonly<Partial<SyncConfig>> = {}): SyncConfig {
  if (!Object.hasOwn(SYNC_PRESETS, preset)) throw invalid(`sync config: preset must be lan, local or wan, got ${String(preset)}`);
  const merged: Record<string, unknown> = { ...SYNC_PRESETS[preset] };
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) merged[key] = value;
  return Object.freeze(validateSyncConfig(merged));
}

/** The membership config a SyncConfig names. */
export function membershipConfigOf(config: SyncConfig): MembershipConfig {
  return resolveMembershipConfig(config.membershipPreset, config.membership);
}

/** Members beyond which the sync interval grows (memberlist's pushPullScaleThreshold). */
export const SYNC_SCALE_THRESHOLD = 32;

/**
 * The anti-entropy period for a mesh of `members`: the base interval up to 32 members, then
 * × (ceil(log2 N) − 4), so each node's sync load stays about flat as the mesh grows
 * (memberlist's pushPullScale).
 */
export function scaledSyncIntervalMs(baseMs: number, members: number): number {
  if (members <= SYNC_SCALE_THRESHOLD) return baseMs;
  return baseMs * (Math.ceil(Math.log2(members)) - 4);
}
