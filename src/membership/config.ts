import { ChorusError, ErrorCode } from '../core/errors.ts';

/** Tunables of the SWIM + Lifeguard failure detector and its gossip. */
export interface MembershipConfig {
  /** Time between the starts of two probes (one member probed per interval). */
  readonly probeIntervalMs: number;
  /** Wait for a direct ack before asking `indirectChecks` others to probe; must be below probeIntervalMs. */
  readonly probeTimeoutMs: number;
  /** k: members asked to probe indirectly (ping-req) when the direct probe times out. */
  readonly indirectChecks: number;
  /** Scales the minimum suspicion timeout: suspicionMult · max(1, log10 N) · probeIntervalMs. */
  readonly suspicionMult: number;
  /** The longest suspicion (no confirmation) is this multiple of the minimum. */
  readonly suspicionMaxTimeoutMult: number;
  /** λ: each membership update is piggybacked ceil(λ · log10(N + 1)) times. */
  readonly retransmitMult: number;
  /** How long dead and left members stay listed before they are reaped to a tombstone. */
  readonly reapTimeoutMs: number;
  /** Most member records piggybacked on one message. */
  readonly gossipMaxPerMessage: number;
  /** Generations above epoch seconds this far ahead of the wall clock are ignored (see maxGeneration). */
  readonly maxFutureGenerationMs: number;
  /** Lifeguard's local health: a node missing acks stretches its probe interval and timeout up to this multiple (1 turns it off). */
  readonly awarenessMaxMultiplier: number;
}

/** The names of the presets. */
export type MembershipPreset = 'lan' | 'local' | 'wan';

const YEAR_MS = 365 * 24 * 3600 * 1000;

/** Default: a home or office LAN (memberlist's DefaultLANConfig). */
const LAN: MembershipConfig = Object.freeze({
  probeIntervalMs: 1000, // memberlist LAN: a failure is noticed within about a second per member probed
  probeTimeoutMs: 500, // memberlist LAN: far above a LAN round trip (99.9th percentile), half the interval leaves room for ping-req
  indirectChecks: 3, // memberlist LAN: three independent routes make a false suspicion from one bad link unlikely
  suspicionMult: 4, // memberlist LAN: four intervals give a slow node time to hear and refute its suspicion
  suspicionMaxTimeoutMult: 6, // memberlist LAN: an unconfirmed suspicion waits up to 6× the minimum (Lifeguard)
  retransmitMult: 4, // memberlist LAN: enough retransmits to reach every member with high probability
  reapTimeoutMs: 30_000, // memberlist LAN GossipToTheDeadTime: dead members stay visible while the news spreads
  gossipMaxPerMessage: 16, // keeps a piggyback to a few KiB (a record is ~100–300 bytes) on any frame
  maxFutureGenerationMs: YEAR_MS, // one year: tolerates epoch-seconds generations from badly set clocks, rejects absurd ones
  awarenessMaxMultiplier: 8, // memberlist AwarenessMaxMultiplier: a struggling node probes up to 8× more slowly instead of suspecting healthy peers
});

/** Fast timers for tests and a single machine (memberlist's DefaultLocalConfig, shortened further). */
const LOCAL: MembershipConfig = Object.freeze({
  probeIntervalMs: 200, // loopback: probing often makes tests and demos converge in a second or two
  probeTimeoutMs: 100, // loopback round trips are microseconds; half the interval keeps room for ping-req
  indirectChecks: 1, // memberlist local: one other route is plenty on one host
  suspicionMult: 3, // memberlist local: shorter suspicion, refutation still has three intervals
  suspicionMaxTimeoutMult: 6, // memberlist default: Lifeguard's range kept as on a LAN
  retransmitMult: 2, // memberlist local: loopback loses nothing, fewer retransmits suffice
  reapTimeoutMs: 15_000, // memberlist local GossipToTheDeadTime
  gossipMaxPerMessage: 16, // as on a LAN: frame size does not depend on the link's latency
  maxFutureGenerationMs: YEAR_MS, // same sanity bound as everywhere
  awarenessMaxMultiplier: 8, // memberlist default: a starved test process slows its own probes rather than suspecting others
});

/** Across the internet or slow links (memberlist's DefaultWANConfig). */
const WAN: MembershipConfig = Object.freeze({
  probeIntervalMs: 5000, // memberlist WAN: probes cost more and links jitter; probe less often
  probeTimeoutMs: 3000, // memberlist WAN: round trips of hundreds of ms with spikes of seconds
  indirectChecks: 3, // memberlist default: three other routes, as on a LAN
  suspicionMult: 6, // memberlist WAN: a longer suspicion absorbs transient internet loss
  suspicionMaxTimeoutMult: 6, // memberlist default: Lifeguard's range kept as on a LAN
  retransmitMult: 4, // memberlist default: dissemination needs the same reliability
  reapTimeoutMs: 60_000, // memberlist WAN GossipToTheDeadTime: news spreads more slowly
  gossipMaxPerMessage: 8, // smaller frames on slow links
  maxFutureGenerationMs: YEAR_MS, // same sanity bound as everywhere
  awarenessMaxMultiplier: 8, // memberlist default: the bound on self-doubt does not depend on the network
});

/** The presets: `lan` (the default), `local` (fast timers for tests), `wan`. */
export const MEMBERSHIP_PRESETS: Readonly<Record<MembershipPreset, MembershipConfig>> = Object.freeze({ lan: LAN, local: LOCAL, wan: WAN });

interface Rule {
  readonly min: number;
  readonly max: number;
}

// Every key with its accepted integer range; an upper bound keeps arithmetic far from overflow.
const DAY_MS = 24 * 3600 * 1000;
const RULES: Readonly<Record<keyof MembershipConfig, Rule>> = {
  probeIntervalMs: { min: 1, max: DAY_MS },
  probeTimeoutMs: { min: 1, max: DAY_MS },
  indirectChecks: { min: 0, max: 64 },
  suspicionMult: { min: 1, max: 1000 },
  suspicionMaxTimeoutMult: { min: 1, max: 1000 },
  retransmitMult: { min: 1, max: 1000 },
  reapTimeoutMs: { min: 0, max: 365 * DAY_MS },
  gossipMaxPerMessage: { min: 1, max: 4096 },
  maxFutureGenerationMs: { min: 0, max: 100 * 365 * DAY_MS },
  awarenessMaxMultiplier: { min: 1, max: 64 },
};

const invalid = (message: string): ChorusError => new ChorusError(ErrorCode.InvalidConfig, message);

/** Checks every value of a complete config, throwing CHORUS_INVALID_CONFIG naming the first bad key. */
export function validateMembershipConfig(config: Readonly<Record<string, unknown>>): MembershipConfig {
  for (const key of Object.keys(config)) {
    if (!Object.hasOwn(RULES, key)) throw invalid(`membership config: unknown key ${key}`);
  }
  for (const [key, rule] of Object.entries(RULES)) {
    const v = config[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < rule.min || v > rule.max) {
      throw invalid(`membership config: ${key} must be an integer in ${rule.min}..${rule.max}, got ${String(v)}`);
    }
  }
  const c = config as unknown as MembershipConfig;
  if (c.probeTimeoutMs >= c.probeIntervalMs) {
    throw invalid(`membership config: probeTimeoutMs (${c.probeTimeoutMs}) must be below probeIntervalMs (${c.probeIntervalMs})`);
  }
  return c;
}

/** A preset with `overrides` merged over it, validated and frozen; throws CHORUS_INVALID_CONFIG naming the bad key. */
export function resolveMembershipConfig(preset: MembershipPreset = 'lan', overrides: Readonly<Partial<MembershipConfig>> = {}): MembershipConfig {
  if (!Object.hasOwn(MEMBERSHIP_PRESETS, preset)) throw invalid(`membership config: preset must be lan, local or wan, got ${String(preset)}`);
  const merged: Record<string, unknown> = { ...MEMBERSHIP_PRESETS[preset] };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) merged[key] = value;
  }
  return Object.freeze(validateMembershipConfig(merged));
}
