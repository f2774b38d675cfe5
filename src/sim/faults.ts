import { membershipConfigOf } from '../sync/config.ts';
import { resolveStoreOptions } from '../store/index.ts';
import type { FaultControl } from './fault-control.ts';
import type { LinkConditions } from './network.ts';
import type { SimNode } from './sim-node.ts';
import type { Simulation } from './simulation.ts';

/** The network as it is after healing: a LAN, nothing lost, no resets. */
const HEALED: Partial<LinkConditions> = { loss: 0, duplicate: 0, replay: 0, streamReset: 0, latency: { baseMs: 0.5, jitterMs: 1, distribution: 'uniform' } };

/** The FaultControl a scenario drives `sim` through. */
export function faultControl(sim: Simulation): FaultControl {
  const node = (i: number): SimNode => {
    const n = sim.nodes[i];
    if (n === undefined) throw new Error(`no node ${i}`);
    return n;
  };
  return {
    n: sim.nodes.length,
    random: sim.random.fork(),
    faultStartMs: sim.faultStartMs,
    faultEndMs: sim.faultEndMs,
    tombstoneTtlMs: resolveStoreOptions(sim.opts.store).tombstoneTtlMs,
    reapTimeoutMs: membershipConfigOf(sim.opts.sync).reapTimeoutMs,
    at: (ms, action) => sim.at(ms, action),
    setConditions: (c) => {
      sim.net.conditions = { ...sim.net.conditions, ...c };
    },
    split: (groups, opts = {}) => {
      sim.net.heal();
      groups.forEach((g, s) => g.forEach((i) => sim.net.setSide(i, s + 1)));
      for (let a = 1; a <= groups.length; a++) {
        for (let b = 1; b <= groups.length; b++) if (a !== b && (!opts.oneWay || a < b)) sim.net.block(a, b);
      }
      // Bridges stay on side 0, which nothing blocks.
      for (const i of opts.bridges ?? []) sim.net.setSide(i, 0);
    },
    heal: () => {
      sim.net.heal();
      sim.net.conditions = { ...sim.net.conditions, ...HEALED };
    },
    crash: (i) => sim.crash(i),
    restart: (i) => sim.boot(i),
    leave: (i) => sim.leave(i),
    pause: (i, ms) => sim.pause(i, ms),
    jumpClock: (i, deltaMs, forMs) => {
      node(i).clock.step(deltaMs);
      if (forMs !== undefined) sim.at(sim.now + forMs, () => node(i).clock.step(-deltaMs));
    },
    driftClock: (i, rate) => node(i).clock.setRate(rate),
    resetStream: (a, b) => sim.net.resetStream(a, b),
    cutStream: (i, type, nth = 1) => sim.armCut(i, type, nth),
    write: (i, op) => {
      if (sim.isUp(i) && !node(i).paused(sim.now)) sim.write(i, op);
    },
    backup: (i) => node(i).disk.image(),
    restoreBackup: (i, image) => node(i).disk.restore(image),
    setDiskFailing: (i, failing) => {
      node(i).disk.failing = failing;
    },
    setStoredGeneration: (i, generation) => node(i).disk.setMeta('generation', generation),
    generation: (i) => node(i).lastGeneration,
    isUp: (i) => sim.isUp(i),
    caughtUp: (i, origin) => {
      const o = node(origin);
      const own = o.store?.watermark(o.nodeId);
      const seen = node(i).store?.watermark(o.nodeId);
      return own !== undefined && seen !== undefined && seen >= own;
    },
  };
}
