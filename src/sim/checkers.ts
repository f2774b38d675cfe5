import type { NodeId } from '../core/ids.ts';
import { compareRecords, OBJECT_FIELD, Store, type StoreRecord } from '../store/index.ts';
import type { Simulation } from './simulation.ts';

/** What a simulated run produced and whether it kept its promises. */
export interface Outcome {
  readonly scenario: string;
  readonly nodes: number;
  readonly seed: number;
  readonly traceHash: string;
  /** Every running replica holds the same records as the union of all acknowledged writes. */
  readonly converged: boolean;
  /** Virtual ms from healing until the replicas were identical; null if they never were. */
  readonly convergenceMs: number | null;
  /** convergenceMs in anti-entropy intervals. */
  readonly rounds: number | null;
  readonly messages: number;
  readonly bytesPerNodePerS: number;
  readonly falseDeaths: number;
  readonly lostAckedWrites: number;
  readonly resurrections: number;
  /** Every running node sees every other running node alive, and no stopped node alive. */
  readonly membershipCorrect: boolean;
  readonly acknowledgedWrites: number;
  readonly virtualMs: number;
  readonly wallMs: number;
}

function registerKey(objectId: string, field: string): string {
  return `${objectId}\u0000${field}`;
}

/** The state all acknowledged writes add up to: merged into one oracle replica. */
function oracle(acked: readonly StoreRecord[]): Store {
  const o = new Store({ nodeId: 'f'.repeat(32) as NodeId, clock: { now: () => 0 }, options: { maxDriftMs: Number.MAX_SAFE_INTEGER } });
  o.merge(acked);
  return o;
}

/** Counts acknowledged writes that some running replica neither holds nor supersedes. */
function lostWrites(sim: Simulation, acked: readonly StoreRecord[]): number {
  let lost = 0;
  for (const node of sim.nodes) {
    if (node.engine === undefined) continue;
    const held = new Map<string, StoreRecord>();
    for (const r of node.store.records()) held.set(registerKey(r.objectId, r.field), r);
    for (const r of acked) {
      const same = held.get(registerKey(r.objectId, r.field));
      const obj = held.get(registerKey(r.objectId, OBJECT_FIELD));
      const covered = (same !== undefined && compareRecords(same, r) >= 0) || (obj !== undefined && compareRecords(obj, r) >= 0);
      if (!covered) lost++;
    }
  }
  return lost;
}

/** Objects visible on a running replica although every acknowledged history deletes them. */
function resurrections(sim: Simulation, truth: Store): number {
  let n = 0;
  for (const node of sim.nodes) {
    if (node.engine === undefined) continue;
    for (const { id } of node.store.list()) if (!truth.has(id)) n++;
  }
  return n;
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
  const truth = oracle(sim.acked);
  const truthList = JSON.stringify(truth.list());
  const up = sim.nodes.filter((n) => n.engine !== undefined);
  const converged = sim.replicasIdentical() && up.every((n) => JSON.stringify(n.store.list()) === truthList);
  const convergenceMs = converged && timing.convergedAt !== undefined ? Math.max(0, timing.convergedAt - sim.faultEndMs) : null;
  const seconds = Math.max(1, sim.now) / 1000;
  return {
    scenario: sim.opts.scenario.name,
    nodes: sim.nodes.length,
    seed: sim.opts.seed,
    traceHash: sim.traceHash(),
    converged,
    convergenceMs,
    rounds: convergenceMs === null ? null : Math.ceil(convergenceMs / sim.opts.sync.syncIntervalMs),
    messages: sim.messages,
    bytesPerNodePerS: Math.round(sim.bytes / sim.nodes.length / seconds),
    falseDeaths: sim.falseDeaths,
    lostAckedWrites: lostWrites(sim, sim.acked),
    resurrections: resurrections(sim, truth),
    membershipCorrect: membershipCorrect(sim),
    acknowledgedWrites: sim.acked.length,
    virtualMs: Math.round(sim.now),
    wallMs: Math.round(timing.wallMs ?? 0),
  };
}
