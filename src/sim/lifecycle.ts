import type { Clock } from '../core/clock.ts';
import { newNodeId } from '../core/ids.ts';
import type { Random } from '../core/random.ts';
import { Store, type JournalEntry, type StoreInit, type StoreOptions } from '../store/index.ts';
import { Engine } from '../sync/engine.ts';
import type { SyncConfig } from '../sync/config.ts';
import type { NodeLife, SimNode } from './sim-node.ts';

/** What starting a node needs from the simulation. */
export interface StartContext {
  readonly now: number;
  readonly random: Random;
  readonly sync: SyncConfig;
  readonly store: Partial<StoreOptions>;
  /** The configured seed addresses ('host:port'). */
  readonly seeds: readonly string[];
  /** The journal sink of this life. */
  persist(store: Store, journal: readonly JournalEntry[]): void;
}

/** The Store's constructor arguments: the node's wall clock, its monotonic clock, the scenario's options. */
function storeInit(node: SimNode, options: Partial<StoreOptions>): StoreInit {
  // `monotonic` reaches the HLC wherever StoreInit has that field (it rides out wall steps).
  const init: StoreInit & { readonly monotonic: Clock } = { nodeId: node.nodeId, clock: node.clock.wall, monotonic: node.clock.monotonic, options };
  return init;
}

/**
 * A new life for `node`, built from what its storage committed, as `chorus start` builds one:
 * the store loaded from the durable records and digest, the generation one above the stored one
 * (stored at once, before the engine exists), lastActiveMs from the stored meta, the journal
 * attached and durability tracked from the loaded watermark, and the remembered members dialled
 * along with the configured seeds. The caller starts the engine.
 */
export function startLife(node: SimNode, ctx: StartContext): NodeLife {
  const state = node.disk.load();
  const store = new Store(storeInit(node, ctx.store));
  store.load(state.records, state.digest);
  store.restoreCollected(node.disk.getMeta('gc'));
  const stored = node.disk.getMeta('generation');
  const generation = (typeof stored === 'number' ? stored : 0) + 1;
  node.disk.setMeta('generation', generation);
  const lastActive = node.disk.getMeta('lastActiveMs');
  store.attachJournal((journal) => ctx.persist(store, journal));
  store.trackDurability();
  const remembered = state.members.filter((m) => m.nodeId !== node.nodeId).map((m) => `${m.addresses[0] ?? ''}:${m.port}`);
  const engine = new Engine({
    nodeId: node.nodeId,
    name: `node-${node.index}`,
    mesh: 'sim',
    generation,
    bootNonce: newNodeId(ctx.random),
    address: node.address,
    port: node.port,
    seeds: [...new Set([...ctx.seeds, ...remembered])],
    store,
    clock: node.clock.wall,
    random: ctx.random,
    config: ctx.sync,
    now: ctx.now,
    ...(typeof lastActive === 'number' ? { lastActiveMs: lastActive } : {}),
  });
  return { store, engine, generation, startedAt: ctx.now };
}
