import type { StoreOptions } from '../store/index.ts';
import type { SyncConfig } from '../sync/config.ts';
import type { FaultControl } from './fault-control.ts';
import type { Workload } from './workload.ts';

/** The phases of a run, virtual ms. */
export interface Timing {
  /** Before faults start (mesh forms, writes begin). */
  readonly warmupMs: number;
  /** The fault window; client writes stop and the network heals at its end. */
  readonly faultMs: number;
  /** Longest time allowed after healing for the mesh to converge. */
  readonly settleMaxMs: number;
}

/** A named fault schedule, with the settings it needs. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Only message loss, duplication, delay or clock faults: no alive node may ever be declared dead. */
  readonly lossOnly: boolean;
  /** Smallest mesh the scenario makes sense for. */
  readonly minNodes: number;
  /** Store options of every node (every life), e.g. a short tombstoneTtlMs. */
  readonly store?: Partial<StoreOptions>;
  /** Sync settings over the lan preset. */
  readonly sync?: Partial<SyncConfig>;
  readonly timing?: Partial<Timing>;
  readonly workload?: Partial<Workload>;
  schedule(f: FaultControl): void;
}
