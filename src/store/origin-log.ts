/**
 * One origin's records as a replica holds them, indexed by seq.
 *
 * Invariants:
 * 1. `watermark` is the highest seq such that every record of this origin with seq ≤ it is
 *    held here or superseded by something that is (or that will arrive in its own origin's
 *    stream). The replica's digest reports watermarks, so a gap is never papered over.
 * 2. `pending` holds seqs above the watermark already received (out-of-order pushes); the
 *    watermark advances through them as gaps fill.
 * 3. `live` maps seq → entry for records of this origin that currently win their register;
 *    `order` lists their seqs ascending, possibly with stale seqs no longer in `live`.
 */
export class OriginLog<E> {
  watermark = 0;
  private readonly pending = new Set<number>();
  readonly live = new Map<number, E>();
  private order: number[] = [];
  private stale = 0;

  /** Records that a seq has been received; true when the watermark moved. */
  note(seq: number): boolean {
    if (seq <= this.watermark) return false;
    if (seq !== this.watermark + 1) {
      this.pending.add(seq);
      return false;
    }
    this.watermark = seq;
    this.drain();
    return true;
  }

  /** Whether `seq` was received or covered already (at or below the watermark, or pending above it). */
  accounted(seq: number): boolean {
    return seq <= this.watermark || this.pending.has(seq);
  }

  /** Applies a peer's claim that (from, to] is complete (ignored when it leaves a gap); true when the watermark moved. */
  cover(from: number, to: number): boolean {
    if (from > this.watermark || to <= this.watermark) return false;
    this.watermark = to;
    for (const s of this.pending) if (s <= to) this.pending.delete(s);
    this.drain();
    return true;
  }

  /** Lowers the watermark to `to` (our own log after a restore); `pending` becomes `held`, the seqs held above it. */
  resetTo(to: number, held: readonly number[]): void {
    this.watermark = to;
    this.pending.clear();
    for (const s of held) if (s > to) this.pending.add(s);
    this.drain();
  }

  private drain(): void {
    while (this.pending.delete(this.watermark + 1)) this.watermark++;
  }

  /** Adds a live record. */
  add(seq: number, entry: E): void {
    this.live.set(seq, entry);
    const last = this.order[this.order.length - 1];
    if (last === undefined || seq > last) {
      this.order.push(seq);
      return;
    }
    const at = lowerBound(this.order, seq);
    if (this.order[at] === seq) this.stale--;
    else this.order.splice(at, 0, seq);
  }

  /** Removes a record that no longer wins its register. */
  remove(seq: number): void {
    if (!this.live.delete(seq)) return;
    this.stale++;
    if (this.stale > 64 && this.stale * 2 > this.order.length) {
      this.order = this.order.filter((s) => this.live.has(s));
      this.stale = 0;
    }
  }

  /** Descriptions of broken invariants 1–3 (empty when they hold); `label` names the origin. */
  checkInvariants(label: string): string[] {
    const out: string[] = [];
    for (const s of this.pending) if (s <= this.watermark) out.push(`${label}: pending seq ${s} at or below watermark ${this.watermark}`);
    const ordered = new Set(this.order);
    for (const s of this.live.keys()) if (!ordered.has(s)) out.push(`${label}: live seq ${s} missing from the seq order`);
    for (let i = 1; i < this.order.length; i++) if ((this.order[i] as number) <= (this.order[i - 1] as number)) out.push(`${label}: seq order not ascending at ${i}`);
    return out;
  }

  /** Live entries with seq > `after`, ascending. */
  *after(after: number): Generator<[number, E]> {
    for (let i = lowerBound(this.order, after + 1); i < this.order.length; i++) {
      const seq = this.order[i] as number;
      const e = this.live.get(seq);
      if (e !== undefined) yield [seq, e];
    }
  }
}

function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
