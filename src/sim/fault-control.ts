import type { Random } from '../core/random.ts';
import type { MessageType } from '../sync/messages.ts';
import type { WriteOp } from '../sync/engine.ts';
import type { LinkConditions } from './network.ts';
import type { DiskImage } from './sim-disk.ts';

/** What a scenario may do to the simulated mesh, at virtual times it chooses. */
export interface FaultControl {
  readonly n: number;
  readonly random: Random;
  /** When faults begin and when the mesh is healed, virtual ms. */
  readonly faultStartMs: number;
  readonly faultEndMs: number;
  /** The tombstone TTL every store runs with. */
  readonly tombstoneTtlMs: number;
  /** How long dead and left members stay listed before they are reaped. */
  readonly reapTimeoutMs: number;
  at(ms: number, action: () => void): void;
  setConditions(c: Partial<LinkConditions>): void;
  /** Partitions the mesh into `groups` (replacing any earlier split); bridges reach every group. */
  split(groups: readonly (readonly number[])[], opts?: { oneWay?: boolean; bridges?: readonly number[] }): void;
  heal(): void;
  /** Stops node `i` at once: its uncommitted batches, store, HLC, engine and membership are gone. */
  crash(i: number): void;
  /** Starts node `i` from what its storage committed, generation + 1 (no-op while it runs). */
  restart(i: number): void;
  leave(i: number): void;
  pause(i: number, ms: number): void;
  /** Steps node `i`'s wall clock by `deltaMs`; with `forMs`, steps it back that much later. */
  jumpClock(i: number, deltaMs: number, forMs?: number): void;
  /** Node `i`'s wall clock runs at `rate` × real time from now on (1.01: 1% fast). */
  driftClock(i: number, rate: number): void;
  /** Resets the stream between `a` and `b` now: every stream message in flight between them is lost. */
  resetStream(a: number, b: number): void;
  /** Arms a cut: the `nth` stream message of type `type` sent by or to node `i` from now on resets that pair's stream as it leaves. */
  cutStream(i: number, type: MessageType, nth?: number): void;
  /** A client write on node `i` now (ignored while it is down or paused). */
  write(i: number, op: WriteOp): void;
  /** A copy of node `i`'s durable storage now (a backup, a VM snapshot). */
  backup(i: number): DiskImage;
  /** Replaces node `i`'s storage with `image`; call while it is down. */
  restoreBackup(i: number, image: DiskImage): void;
  /** While true, every commit of node `i` fails whole. */
  setDiskFailing(i: number, failing: boolean): void;
  /** Overwrites the generation node `i`'s storage remembers (its next start uses it + 1). */
  setStoredGeneration(i: number, generation: number): void;
  /** The generation of node `i`'s current or last life (0 before its first start). */
  generation(i: number): number;
  isUp(i: number): boolean;
  /** Whether running node `i` holds every write of running node `origin` (its watermark of it has reached origin's own). */
  caughtUp(i: number, origin: number): boolean;
}
