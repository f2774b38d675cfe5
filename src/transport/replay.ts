/** Width of the replay window: how far behind the newest counter a frame may arrive and still be accepted once. */
export const REPLAY_WINDOW = 1024;

/** Bitmap blocks of 32 counters; one more than the window needs (RFC 6479), so advancing never clears live bits. */
const BLOCKS = REPLAY_WINDOW / 32 + 1;
const BLOCKS_N = BigInt(BLOCKS);

/** What a window says about a counter it has not committed yet. */
export type WindowVerdict = 'fresh' | 'duplicate' | 'too-old';

/**
 * A sliding anti-replay window over 64-bit counters (RFC 6479, as WireGuard and IPsec keep):
 * every counter within REPLAY_WINDOW of the highest seen is accepted once; older ones are refused.
 * `check` is read-only so an unauthenticated frame can be tested without changing state; `commit`
 * records a counter after its frame authenticated.
 */
export class ReplayWindow {
  #top: bigint;
  readonly #bits = new Uint32Array(BLOCKS);

  constructor(first: bigint) {
    this.#top = first;
    this.#set(first);
  }

  /** Whether `counter` would be accepted now. */
  check(counter: bigint): WindowVerdict {
    if (counter > this.#top) return 'fresh';
    if (this.#top - counter >= REPLAY_WINDOW) return 'too-old';
    const block = Number((counter >> 5n) % BLOCKS_N);
    return (this.#bits[block] as number) & (1 << Number(counter & 31n)) ? 'duplicate' : 'fresh';
  }

  /** Records `counter` as seen; call only after `check` said 'fresh' and the frame authenticated. */
  commit(counter: bigint): void {
    if (counter > this.#top) {
      const from = this.#top >> 5n;
      let steps = (counter >> 5n) - from;
      if (steps > BLOCKS_N) steps = BLOCKS_N;
      for (let i = 1n; i <= steps; i++) this.#bits[Number((from + i) % BLOCKS_N)] = 0;
      this.#top = counter;
    }
    this.#set(counter);
  }

  #set(counter: bigint): void {
    const block = Number((counter >> 5n) % BLOCKS_N);
    this.#bits[block] = (this.#bits[block] as number) | (1 << Number(counter & 31n));
  }
}

/**
 * Replay windows per sender session, bounded: the least recently used session is forgotten when
 * `maxSessions` would be exceeded. Only authenticated frames create sessions, so a flood of forged
 * frames cannot evict real ones.
 */
export class SessionTable {
  readonly #windows = new Map<string, ReplayWindow>();
  #evicted = 0;

  constructor(readonly maxSessions: number) {}

  /** The verdict for `counter` in `session` (an unknown session accepts anything). */
  check(session: string, counter: bigint): WindowVerdict {
    return this.#windows.get(session)?.check(counter) ?? 'fresh';
  }

  /** Records an authenticated counter, creating the session (and evicting the oldest) as needed. */
  commit(session: string, counter: bigint): void {
    const w = this.#windows.get(session);
    if (w !== undefined) {
      this.#windows.delete(session); // re-insert: Map order is our LRU order
      this.#windows.set(session, w);
      w.commit(counter);
      return;
    }
    if (this.#windows.size >= this.maxSessions) {
      const oldest = this.#windows.keys().next().value as string;
      this.#windows.delete(oldest);
      this.#evicted++;
    }
    this.#windows.set(session, new ReplayWindow(counter));
  }

  /** Sessions tracked now. */
  get size(): number {
    return this.#windows.size;
  }

  /** Sessions forgotten to stay within `maxSessions`. */
  get evicted(): number {
    return this.#evicted;
  }
}
