import type { NodeId } from '../core/ids.ts';
import type { Store } from '../store/index.ts';
import type { Engine } from '../sync/engine.ts';
import type { SimClock } from './sim-clock.ts';
import type { SimDisk } from './sim-disk.ts';

/** One life of a running node: everything a crash discards (store, HLC inside it, engine, membership). */
export interface NodeLife {
  readonly store: Store;
  readonly engine: Engine;
  readonly generation: number;
  /** Virtual ms when this life began. */
  readonly startedAt: number;
}

/** An event the node must handle later (delivered while it was paused). */
export type Deferred = () => void;

/**
 * A simulated machine: identity, address, clocks and storage survive crashes; `life` is the
 * running process, undefined while the node is down.
 */
export class SimNode {
  life: NodeLife | undefined;
  /** Bumped at every crash, stop and start: events of an earlier life are ignored. */
  epoch = 0;
  pausedUntil = 0;
  /** Virtual ms of the last resume from a pause (0 if never paused). */
  resumedAt = 0;
  /** Work that arrived while paused, handled at resume. */
  inbox: Deferred[] = [];
  wakeAt = Infinity;
  /** The generation of the last life (0 before the first start). */
  lastGeneration = 0;

  constructor(
    readonly index: number,
    readonly nodeId: NodeId,
    readonly address: string,
    readonly port: number,
    readonly clock: SimClock,
    readonly disk: SimDisk,
  ) {}

  /** 'host:port' as peers dial it. */
  get endpoint(): string {
    return `${this.address}:${this.port}`;
  }

  /** The running engine, or undefined while down. */
  get engine(): Engine | undefined {
    return this.life?.engine;
  }

  /** The running store, or undefined while down. */
  get store(): Store | undefined {
    return this.life?.store;
  }

  /** Whether the process is suspended at `now`. */
  paused(now: number): boolean {
    return this.pausedUntil > now;
  }
}
