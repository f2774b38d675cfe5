/** Named event counts (messages sent and received by type, drops by reason, rounds...). */
export class Counters {
  readonly #counts = new Map<string, number>();

  /** Adds `by` (default 1) to `name`. */
  inc(name: string, by = 1): void {
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + by);
  }

  /** The current count of `name` (0 when never counted). */
  get(name: string): number {
    return this.#counts.get(name) ?? 0;
  }

  /** Every count, as a plain object sorted by name. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of [...this.#counts.keys()].sort()) out[name] = this.#counts.get(name) as number;
    return out;
  }
}
