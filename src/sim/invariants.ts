import type { Membership } from '../membership/membership.ts';
import { compareRecords, OBJECT_FIELD, TOMBSTONE, tupleToRecord, type Store, type StoreRecord } from '../store/index.ts';
import { MessageType, type Message } from '../sync/messages.ts';
import { ReplicaCoverage } from './coverage.ts';
import type { Oracle } from './oracle.ts';
import type { SimNode } from './sim-node.ts';

/** How many violation descriptions are kept for the verdict. */
const SAMPLES = 5;

/**
 * Collects broken invariants: the cores' own checks after every simulator step (debug mode)
 * and the semantic check at the end. Each (node, description) is counted once, so a state that
 * stays broken over many steps counts once.
 */
export class InvariantLog {
  private readonly seen = new Set<string>();
  readonly samples: string[] = [];

  /** Violations counted so far. */
  get count(): number {
    return this.seen.size;
  }

  /** Records `problems` found on `node` at virtual time `atMs`. */
  add(node: SimNode, problems: readonly string[], atMs: number): void {
    for (const p of problems) {
      const key = `node ${node.index}: ${p}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      if (this.samples.length < SAMPLES) this.samples.push(`${key} (at ${Math.round(atMs)} ms)`);
    }
  }
}

/** The membership core's own check, where this build has one. */
function membershipProblems(m: Membership): string[] {
  // Membership.checkInvariants is being added alongside this harness; until it is in every
  // tree the simulator runs against, it is called only where it exists.
  const check = (m as unknown as { checkInvariants?: () => string[] }).checkInvariants;
  return typeof check === 'function' ? check.call(m).map((p) => `membership: ${p}`) : [];
}

/**
 * The cores' own invariants on a running node: its membership, and a full scan of its store
 * when `storeChanged` (a step that changed nothing there cannot have broken it).
 */
export function coreProblems(node: SimNode, storeChanged: boolean): string[] {
  const life = node.life;
  if (life === undefined) return [];
  const store = storeChanged ? life.store.checkInvariants().map((p) => `store: ${p}`) : [];
  return [...store, ...membershipProblems(life.engine.membership)];
}

/**
 * Commit before push (the runtime's invariant 2): an eager push of our own writes (a PUSH with
 * hops 0) carries only records our storage has committed, so a crash can never make us reuse a
 * seq a peer holds. Counts the own records in `message` above the committed watermark.
 */
export function pushedBeforeCommit(node: SimNode, message: Message): number {
  if (message.t !== MessageType.PUSH || message.hops !== 0) return 0;
  const committed = Math.max(node.disk.watermark(node.nodeId), node.disk.committedOwnSeq());
  let early = 0;
  for (const t of message.records) {
    const r = tupleToRecord(t) as Partial<StoreRecord>;
    if (r.origin === node.nodeId && typeof r.seq === 'number' && r.seq > committed) early++;
  }
  return early;
}

/** A record as violations name it. */
function describe(r: StoreRecord): string {
  return `${r.origin.slice(0, 8)}…:${r.seq} (${r.objectId}/${r.field === OBJECT_FIELD ? '<object>' : r.field})`;
}

/**
 * Records a replica still holds although it has seen (within its watermark of the origin) a
 * record that beats them in their register or their object's register: applying that record
 * should have dropped them, and the watermark says it was applied. Tombstone collection cannot
 * explain it (a held record superseded by a tombstone went when the tombstone came). A held
 * tombstone is exempt: a replica verifying itself keeps its deletions the mesh never saw
 * (decision 0006) even where newer writes, since deleted and collected, beat them; a deletion
 * shows nothing, so it cannot make replicas differ in what they show (convergence checks that).
 */
function staleHeld(store: Store, oracle: Oracle): string[] {
  const out: string[] = [];
  for (const h of store.records()) {
    if (h.value === TOMBSTONE) continue;
    const rivals = h.field === OBJECT_FIELD ? oracle.recordsOf(h.objectId, OBJECT_FIELD) : [...oracle.recordsOf(h.objectId, h.field), ...oracle.recordsOf(h.objectId, OBJECT_FIELD)];
    const newer = rivals.find((r) => compareRecords(r, h) > 0 && store.watermark(r.origin) >= r.seq && !oracle.wasDropped(r));
    if (newer !== undefined) out.push(`holds ${describe(h)} although its watermark passes ${describe(newer)}, which beats it`);
  }
  return out;
}

/**
 * The semantic check on a running node: for each origin and each seq up to the node's watermark
 * of it, every record the oracle knows for (origin, seq) (retracted ones aside) is accounted for
 * there (ReplicaCoverage: held, superseded, or a tombstone it has seen), or was reported in a
 * 'records-dropped' event. A watermark that passes a record the node never accounted for is a
 * silent loss: anti-entropy will never send it again.
 */
export function semanticProblems(node: SimNode, oracle: Oracle): string[] {
  const store = node.store;
  if (store === undefined) return [];
  const coverage = new ReplicaCoverage(store, oracle);
  const out: string[] = staleHeld(store, oracle);
  for (const origin of oracle.origins()) {
    const w = store.watermark(origin);
    for (let seq = 1; seq <= w; seq++) {
      for (const r of oracle.at(origin, seq)) {
        if (coverage.covers(r) || oracle.wasDropped(r)) continue;
        out.push(`watermark ${origin.slice(0, 8)}…=${w} passes ${describe(r)}, neither held, superseded nor reported dropped`);
      }
    }
  }
  return out;
}
