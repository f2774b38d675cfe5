import { randomInt, type Random } from '../core/random.ts';
import type { LinkConditions } from './network.ts';

/** What a scenario may do to the simulated mesh, at virtual times it chooses. */
export interface FaultControl {
  readonly n: number;
  readonly random: Random;
  /** When faults begin and when the mesh is healed, virtual ms. */
  readonly faultStartMs: number;
  readonly faultEndMs: number;
  at(ms: number, action: () => void): void;
  setConditions(c: Partial<LinkConditions>): void;
  split(groups: readonly (readonly number[])[], opts?: { oneWay?: boolean; bridges?: readonly number[] }): void;
  heal(): void;
  crash(i: number): void;
  restart(i: number): void;
  leave(i: number): void;
  pause(i: number, ms: number): void;
  jumpClock(i: number, deltaMs: number): void;
  isUp(i: number): boolean;
}

/** A named fault schedule. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Only message loss, duplication or delay: no alive node may ever be declared dead. */
  readonly lossOnly: boolean;
  /** Smallest mesh the scenario makes sense for. */
  readonly minNodes: number;
  schedule(f: FaultControl): void;
}

const range = (a: number, b: number): number[] => Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);

const conditionsScenario = (name: string, description: string, c: Partial<LinkConditions>): Scenario => ({
  name,
  description,
  lossOnly: true,
  minNodes: 2,
  schedule(f) {
    f.at(f.faultStartMs, () => f.setConditions(c));
    f.at(f.faultEndMs, () => f.heal());
  },
});

/** Every scenario by name. */
export const SCENARIOS: readonly Scenario[] = [
  { name: 'steady', description: 'no faults: a healthy LAN', lossOnly: true, minNodes: 2, schedule: () => {} },
  conditionsScenario('loss-10', '10% of packets lost', { loss: 0.1 }),
  conditionsScenario('loss-30', '30% of packets lost', { loss: 0.3 }),
  conditionsScenario('dup-replay', '20% of packets duplicated, 5% replayed seconds later', { duplicate: 0.2, replay: 0.05 }),
  conditionsScenario('delay-reorder', 'latency 5 ms + exponential(150 ms): heavy reordering', { latency: { baseMs: 5, jitterMs: 150, distribution: 'exponential' } }),
  {
    name: 'partition-2-3',
    description: 'the mesh splits 40/60 (2 | 3 of five) for the fault window',
    lossOnly: false,
    minNodes: 2,
    schedule(f) {
      const cut = Math.max(1, Math.round(f.n * 0.4));
      f.at(f.faultStartMs, () => f.split([range(0, cut), range(cut, f.n)]));
      f.at(f.faultEndMs, () => f.heal());
    },
  },
  {
    name: 'isolate-1',
    description: 'one node is cut off from all others',
    lossOnly: false,
    minNodes: 2,
    schedule(f) {
      f.at(f.faultStartMs, () => f.split([[f.n - 1], range(0, f.n - 1)]));
      f.at(f.faultEndMs, () => f.heal());
    },
  },
  {
    name: 'bridge',
    description: 'two halves cannot reach each other; one node reaches both',
    lossOnly: false,
    minNodes: 3,
    schedule(f) {
      const bridge = f.n - 1;
      const half = Math.floor((f.n - 1) / 2);
      f.at(f.faultStartMs, () => f.split([range(0, half), range(half, f.n - 1)], { bridges: [bridge] }));
      f.at(f.faultEndMs, () => f.heal());
    },
  },
  {
    name: 'one-way',
    description: 'the first half cannot send to the second; the reverse works',
    lossOnly: false,
    minNodes: 2,
    schedule(f) {
      const half = Math.max(1, Math.floor(f.n / 2));
      f.at(f.faultStartMs, () => f.split([range(0, half), range(half, f.n)], { oneWay: true }));
      f.at(f.faultEndMs, () => f.heal());
    },
  },
  {
    name: 'crash-restart',
    description: 'a third of the nodes crash, some restart mid-fault, the rest at heal (storage kept, generation +1)',
    lossOnly: false,
    minNodes: 2,
    schedule(f) {
      const victims = range(0, Math.max(1, Math.floor(f.n / 3))).map((i) => f.n - 1 - i);
      const span = f.faultEndMs - f.faultStartMs;
      victims.forEach((v, k) => {
        f.at(f.faultStartMs + (k * span) / (victims.length * 4), () => f.crash(v));
        if (k % 2 === 0) f.at(f.faultStartMs + span / 2, () => f.restart(v));
      });
      f.at(f.faultEndMs, () => victims.forEach((v) => f.isUp(v) || f.restart(v)));
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
      f.at(f.faultEndMs, () => range(0, f.n).forEach((j) => f.isUp(j) || f.restart(j)));
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
    name: 'clock-jump',
    description: 'one clock jumps 30 s ahead, another 20 s back, within the drift bound',
    lossOnly: true,
    minNodes: 2,
    schedule(f) {
      f.at(f.faultStartMs + 1000, () => f.jumpClock(f.n - 1, 30_000));
      f.at(f.faultStartMs + 5000, () => f.jumpClock(0, -20_000));
    },
  },
];

/** A scenario by name, or undefined. */
export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
