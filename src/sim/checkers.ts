import type { StoreRecord } from '../store/index.ts';
import { ReplicaCoverage } from './coverage.ts';
import { recordId } from './oracle.ts';
import { seedJson } from './seed.ts';
import type { SimNode } from './sim-node.ts';
import type { Simulation } from './simulation.ts';
import { visibleState, type VisibleObject } from './truth.ts';

/** What a simulated run produced and whether it kept its promises. */
export interface Outcome {
  readonly scenario: string;
  readonly nodes: number;
  /** The seed exactly: a number up to 2^53−1, else its decimal string. */
  readonly seed: number | string;
  readonly traceHash: string;
  /** Every running replica holds the same records, and shows the state the oracle computes. */
  readonly converged: boolean;
  /** Virtual ms from healing until the replicas were identical; null if they never were. */
  readonly convergenceMs: number | null;
  /** convergenceMs in anti-entropy intervals. */
  readonly rounds: number | null;
  readonly messages: number;
  readonly bytesPerNodePerS: number;
  /** 'dead' declarations about nodes that were up and reachable (see FalseDeathJudge). */
  readonly falseDeaths: number;
  /** (running replica, acknowledged record) pairs where the replica neither holds nor supersedes the record. */
  readonly lostAckedWrites: number;
  /** Acknowledged records reported dropped as stale (at or below the horizon reported): not counted as lost. */
  readonly staleDropped: number;
  /** Objects visible on a running replica although the oracle's state deletes them. */
  readonly resurrections: number;
  /** Broken invariants: the cores' own checks (debug mode) and the semantic check at the end. */
  readonly invariantViolations: number;
  /** Own records that left in an eager push before their commit (commit before push broken). */
  readonly earlyPushes: number;
  /** Every running node sees every other running node alive, and no stopped node alive. */
  readonly membershipCorrect: boolean;
  readonly acknowledgedWrites: number;
  /** Storage commits that failed (a failing disk). */
  readonly commitFailures: number;
  /** Stream resets (faults and the streamReset link condition). */
  readonly streamResets: number;
  readonly virtualMs: number;
  readonly wallMs: number;
}

/**
 * The records the final state must add up to: every acknowledged write, and every unacknowledged
 * one (created by a node, not retracted) that survived on a running replica (a write whose commit failed may
 * still have spread; the client was told it failed, so either outcome is allowed, but the mesh
 * must agree). Records reported dropped as stale are left out: the mesh chose to drop them.
 */
function expectedRecords(sim: Simulation): StoreRecord[] {
  const { oracle } = sim;
  const out = new Map<string, StoreRecord>();
  for (const r of oracle.ackedLive()) out.set(recordId(r), r);
  for (const node of sim.nodes) {
    for (const r of node.store?.records() ?? []) {
      const id = recordId(r);
      if (!out.has(id) && !oracle.isAcked(r) && oracle.isCreated(r) && !oracle.isRetracted(r) && !oracle.isStale(r)) out.set(id, r);
    }
  }
  return [...out.values()];
}

/** Counts (running replica, acknowledged record) pairs the replica does not account for (ReplicaCoverage). */
function lostWrites(sim: Simulation): number {
  let lost = 0;
  const acked = sim.oracle.ackedLive();
  for (const node of sim.nodes) {
    if (node.store === undefined) continue;
    const coverage = new ReplicaCoverage(node.store, sim.oracle);
    for (const r of acked) if (!coverage.covers(r)) lost++;
  }
  return lost;
}

/** Objects visible on a running replica that the expected state does not show. */
function resurrections(sim: Simulation, truth: readonly VisibleObject[]): number {
  const visible = new Set(truth.map((o) => o.id));
  let n = 0;
  for (const node of sim.nodes) for (const { id } of node.store?.list() ?? []) if (!visible.has(id)) n++;
  return n;
}

/**
 * True when every running node has the same digest and the same visible state (objects and
 * their field values). Tombstone counts are not compared: each replica collects its tombstones
 * on its own schedule, so two replicas that agree on everything visible may hold different
 * numbers of deletions waiting to be collected.
 */
export function replicasIdentical(nodes: readonly SimNode[]): boolean {
  const up = nodes.filter((n) => n.store !== undefined);
  const first = up[0]?.store;
  if (first === undefined) return true;
  const d0 = JSON.stringify(first.digest());
  const v0 = replicaView(first);
  return up.every((n) => JSON.stringify(n.store?.digest()) === d0 && n.store !== undefined && replicaView(n.store) === v0);
}

/** The visible objects and counts of a replica, as one comparable string. */
function replicaView(store: NonNullable<SimNode['store']>): string {
  const { objects, liveFields } = store.stats();
  return `${objects}/${liveFields}/${JSON.stringify(store.list())}`;
}

/** Every running node sees every other running node alive, and no stopped node alive. */
export function membershipCorrect(sim: Simulation): boolean {
  for (const node of sim.nodes) {
    const e = node.engine;
    if (e === undefined) continue;
    for (const other of sim.nodes) {
      if (other === node) continue;
      const m = e.membership.get(other.nodeId);
      if (other.engine !== undefined) {
        if (m === undefined || m.status !== 'alive') return false;
      } else if (m !== undefined && m.status === 'alive') return false;
    }
  }
  return true;
}

/** Checks a run against its promises. */
export function checkOutcome(sim: Simulation, timing: { convergedAt?: number | undefined; wallMs?: number } = {}): Outcome {
  const truth = visibleState(expectedRecords(sim));
  const truthList = JSON.stringify(truth);
  const up = sim.nodes.filter((n) => n.store !== undefined);
  const converged = replicasIdentical(sim.nodes) && up.every((n) => JSON.stringify(n.store?.list()) === truthList);
  const convergenceMs = converged && timing.convergedAt !== undefined ? Math.max(0, timing.convergedAt - sim.faultEndMs) : null;
  const seconds = Math.max(1, sim.now) / 1000;
  return {
    scenario: sim.opts.scenario.name,
    nodes: sim.nodes.length,
    seed: seedJson(BigInt(sim.opts.seed)),
    traceHash: sim.traceHash(),
    converged,
    convergenceMs,
    rounds: convergenceMs === null ? null : Math.ceil(convergenceMs / sim.opts.sync.syncIntervalMs),
    messages: sim.messages,
    bytesPerNodePerS: Math.round(sim.bytes / sim.nodes.length / seconds),
    falseDeaths: sim.deaths.count,
    lostAckedWrites: lostWrites(sim),
    staleDropped: sim.oracle.staleAckedCount(),
    resurrections: resurrections(sim, truth),
    invariantViolations: sim.invariants.count,
    earlyPushes: sim.earlyPushes,
    membershipCorrect: membershipCorrect(sim),
    acknowledgedWrites: sim.oracle.acked.length,
    commitFailures: sim.nodes.reduce((a, n) => a + n.disk.failedCommits, 0),
    streamResets: sim.net.resets,
    virtualMs: Math.round(sim.now),
    wallMs: Math.round(timing.wallMs ?? 0),
  };
}
