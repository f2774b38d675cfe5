/** Which channel a message needs: best-effort packets or the reliable ordered stream (memberlist's two). */
export type Channel = 'packet' | 'stream';

/** A link's state as reported to `onLinkState` and by `links()`. */
export type LinkState = 'connecting' | 'open' | 'closed';

/** What `links()` tells about the link to one peer address. */
export interface LinkInfo {
  /** The peer's declared listen address ('host:port'). */
  readonly address: string;
  readonly state: LinkState;
  /** The peer's node id, once a connection to it authenticated. */
  readonly nodeId: string | null;
  /** Who dialed the open connection (null when none is open). */
  readonly direction: 'inbound' | 'outbound' | null;
  /** When the link entered its current state (ms since the epoch). */
  readonly since: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly framesIn: number;
  readonly framesOut: number;
  /** Messages waiting for the link to open. */
  readonly queued: number;
  /** Failed dials since the link was last open and stable. */
  readonly reconnectAttempts: number;
}

/** A logger, reduced to what the transport uses (adapt pino with `(msg, fields) => log.info(fields ?? {}, msg)`). */
export interface TransportLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
}

/** A transport carries opaque payloads to peers named by 'host:port' (WebSocket mesh, in-memory, MQTT). */
export interface Transport {
  /** Sends a payload; false when it was dropped at once (closed, bad address, too large, overflow), each counted. */
  send(to: string, payload: Uint8Array, channel: Channel): boolean;
  /** The 'host:port' peers should reach us at, declared in every new link's hello. */
  setSelfAddress(address: string): void;
  /** Per peer address: state and traffic. */
  links(): Record<string, LinkInfo>;
  /** Named event counts (frames, refusals by reason, drops by reason...). */
  counters(): Record<string, number>;
  /** Closes every link and stops every timer. */
  close(): Promise<void>;
}
