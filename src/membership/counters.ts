/** Everything Membership counts, for status pages and metrics (a type alias, so it is also a Record<string, number>). */
export type MembershipCounters = {
  /** Gossip, hello or digest-reply records that failed validation and were dropped. */
  invalidGossip: number;
  /** Records whose generation exceeded maxGeneration(now), ignored. */
  ignoredFutureGeneration: number;
  /** Peers that introduced themselves with our node id and another boot nonce. */
  duplicateIdentity: number;
  /** News of a later life of ours (a higher generation) that we did not continue above (see selfVerdict: a copy, or we left). */
  supersededSelf: number;
  /** Times our generation went backwards (restored data directory, deleted generation file) and we raised it above the mesh's memory. */
  generationRaises: number;
  /** Times a member announced a lower generation than we hold for it and we sent it ours. */
  laterLivesTold: number;
  /** Times we raised our incarnation to refute news about ourselves. */
  refutations: number;
  /** Times a peer gossiped an older record of us and we re-announced ours to it. */
  reannouncements: number;
  /** Direct probes (pings) we started. */
  probesSent: number;
  /** Ping-reqs we sent to helpers after a direct probe timed out. */
  indirectProbes: number;
  /** Pings we sent on behalf of another member's ping-req. */
  relayedProbes: number;
  /** Ping-reqs dropped because too many relays were open. */
  droppedRelays: number;
  /** Probe messages that failed validation and were dropped. */
  invalidProbe: number;
  /** Members that became suspect in our view (by our probe or by gossip). */
  suspicions: number;
  /** Members that became dead in our view (suspicion expired or by gossip). */
  deaths: number;
  /** Dead or left members removed after reapTimeoutMs, leaving a tombstone. */
  reaped: number;
  /**
   * Lifeguard's local health score now (a level, not a count): 0 is healthy; our probe
   * interval and timeout are stretched by awareness + 1. At most awarenessMaxMultiplier − 1.
   */
  awareness: number;
};

/** All counters at zero. */
export function newMembershipCounters(): MembershipCounters {
  return {
    invalidGossip: 0,
    ignoredFutureGeneration: 0,
    duplicateIdentity: 0,
    supersededSelf: 0,
    generationRaises: 0,
    laterLivesTold: 0,
    refutations: 0,
    reannouncements: 0,
    probesSent: 0,
    indirectProbes: 0,
    relayedProbes: 0,
    droppedRelays: 0,
    invalidProbe: 0,
    suspicions: 0,
    deaths: 0,
    reaped: 0,
    awareness: 0,
  };
}
