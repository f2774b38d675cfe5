import { randomInt } from '../core/random.ts';
import type { DiskImage } from './sim-disk.ts';
import type { Scenario } from './scenario.ts';
import { range } from './scenarios-network.ts';

/** Faults of processes and their storage: crashes, restarts, leaves, pauses, rollbacks, full disks. */
export const PROCESS_SCENARIOS: readonly Scenario[] = [
  {
    name: 'crash-restart',
    description: 'a third of the nodes crash, some restart mid-fault, the rest at heal (from committed storage, generation +1)',
    lossOnly: false,
    minNodes: 2,
    schedule(f) {
      const victims = range(0, Math.max(1, Math.floor(f.n / 3))).map((i) => f.n - 1 - i);
      const span = f.faultEndMs - f.faultStartMs;
      victims.forEach((v, k) => {
        f.at(f.faultStartMs + (k * span) / (victims.length * 4), () => f.crash(v));
        if (k % 2 === 0) f.at(f.faultStartMs + span / 2, () => f.restart(v));
      });
      f.at(f.faultEndMs, () => victims.forEach((v) => f.restart(v)));
    },
  },
  {
    name: 'churn',
    description: 'every 2 s a random node crashes, restarts or leaves gracefully and rejoins',
    lossOnly: false,
    minNodes: 3,
    schedule(f) {
      for (let t = f.faultStartMs; t < f.faultEndMs; t += 2000) {
        f.at(t, () => {
          const i = randomInt(f.random, f.n);
          const down = range(0, f.n).filter((j) => !f.isUp(j)).length;
          if (!f.isUp(i)) f.restart(i);
          else if (down < Math.floor(f.n / 3) || down === 0) {
            if (f.random.next() < 0.3) f.leave(i);
            else f.crash(i);
          }
        });
      }
      f.at(f.faultEndMs, () => range(0, f.n).forEach((j) => f.restart(j)));
    },
  },
  {
    name: 'pause',
    description: 'one node stops for 20 s (a long GC or a suspended VM), then resumes where it was',
    lossOnly: false,
    minNodes: 2,
    schedule(f) {
      f.at(f.faultStartMs + 2000, () => f.pause(f.n - 1, 20_000));
    },
  },
  {
    name: 'restore-backup',
    description: "a node's storage is rolled back to a copy taken earlier (a restored backup or VM snapshot); it restarts and keeps writing",
    lossOnly: false,
    minNodes: 2,
    timing: { faultMs: 40_000 },
    schedule(f) {
      const a = f.n - 1;
      let image: DiskImage | undefined;
      f.at(f.faultStartMs + 2000, () => {
        image = f.backup(a);
      });
      // A restart between backup and rollback: the restored generation is one already used.
      f.at(f.faultStartMs + 8000, () => f.crash(a));
      f.at(f.faultStartMs + 9000, () => f.restart(a));
      f.at(f.faultStartMs + 20_000, () => f.crash(a));
      // It writes the moment it is back, before any peer can tell it about its later writes, to
      // an object nobody else writes: if that write's reused seq is lost, nothing hides it.
      f.at(f.faultStartMs + 21_000, () => {
        if (image !== undefined) f.restoreBackup(a, image);
        f.restart(a);
        f.write(a, { kind: 'put', id: 'restored', fields: { by: a } });
      });
      for (let t = f.faultStartMs + 21_500; t < f.faultEndMs; t += 500) {
        f.at(t, () => f.write(a, { kind: 'patch', id: `obj-${randomInt(f.random, 24)}`, fields: { restored: t } }));
      }
    },
  },
  {
    name: 'generation-regress',
    description: 'a node leaves, is reaped everywhere (past reapTimeoutMs), and comes back with a lower generation',
    lossOnly: false,
    minNodes: 2,
    timing: { faultMs: 60_000 },
    schedule(f) {
      const a = f.n - 1;
      f.at(f.faultStartMs + 2000, () => f.leave(a));
      f.at(f.faultStartMs + 2000 + f.reapTimeoutMs + 10_000, () => {
        f.setStoredGeneration(a, f.generation(a) - 2);
        f.restart(a);
      });
    },
  },
  {
    name: 'disk-full',
    description: "a node's disk fails for 13 s: its first failed commit stops it (fail-stop: nothing uncommitted was acknowledged, pushed or confirmed); it starts again from what it committed once the disk works",
    lossOnly: false,
    minNodes: 2,
    timing: { faultMs: 40_000 },
    schedule(f) {
      const a = f.n - 1;
      f.at(f.faultStartMs + 2000, () => f.setDiskFailing(a, true));
      f.at(f.faultStartMs + 15_000, () => {
        f.setDiskFailing(a, false);
        f.restart(a);
      });
    },
  },
];
