/** What the arbiter knows about a connection to a peer. */
export interface ConnectionFacts {
  /** The connection id: the dialer's hello challenge, known to both ends. */
  readonly id: string;
  readonly nodeId: string;
  /** The peer process's random boot id (a restart changes it). */
  readonly boot: string;
}

/** A newly authenticated connection: the id of the connection its dialer lost, if it dialed to replace one. */
export interface Candidate extends ConnectionFacts {
  readonly replaces: string | null;
}

/**
 * One link per peer: of two nodes, the one with the lower node id arbitrates which connection
 * carries the link and tells the other with a SELECT frame, so both ends always agree, even when
 * both dial at once, and the higher node never sends data on a connection that will be dropped.
 */
export function isArbiter(selfNodeId: string, peerNodeId: string): boolean {
  return selfNodeId < peerNodeId;
}

/**
 * The arbiter's decision on a new connection, given the connection the link uses now:
 * - no current connection: select it;
 * - the peer restarted (another boot) or another node now holds the address: select it;
 * - the peer dialed to replace exactly the current connection (it saw it die first): select it;
 * - otherwise both ended up dialing at once: a duplicate, closed.
 */
export function arbitrate(current: ConnectionFacts | null, candidate: Candidate): 'select' | 'duplicate' {
  if (current === null) return 'select';
  if (current.nodeId !== candidate.nodeId || current.boot !== candidate.boot) return 'select';
  if (candidate.replaces === current.id) return 'select';
  return 'duplicate';
}
