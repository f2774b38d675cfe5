import type { LinkConditions } from './network.ts';
import type { Scenario } from './scenario.ts';

/** Integers a..b−1. */
export const range = (a: number, b: number): number[] => Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);

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

const isolate = (name: string, description: string, minNodes: number): Scenario => ({
  name,
  description,
  lossOnly: false,
  minNodes,
  schedule(f) {
    f.at(f.faultStartMs, () => f.split([[f.n - 1], range(0, f.n - 1)]));
    f.at(f.faultEndMs, () => f.heal());
  },
});

/** Faults of the network only: loss, duplication, delay, stream resets, partitions. */
export const NETWORK_SCENARIOS: readonly Scenario[] = [
  { name: 'steady', description: 'no faults: a healthy LAN', lossOnly: true, minNodes: 2, schedule: () => {} },
  conditionsScenario('loss-10', '10% of packets lost', { loss: 0.1 }),
  conditionsScenario('loss-30', '30% of packets lost', { loss: 0.3 }),
  conditionsScenario('dup-replay', '20% of packets duplicated, 5% replayed seconds later', { duplicate: 0.2, replay: 0.05 }),
  conditionsScenario('delay-reorder', 'latency 5 ms + exponential(150 ms): heavy reordering', { latency: { baseMs: 5, jitterMs: 150, distribution: 'exponential' } }),
  {
    ...conditionsScenario('stream-reset', '2% of stream messages reset their connection: exchanges and snapshots cut mid-transfer', { streamReset: 0.02 }),
    // Small batches: a catch-up spans several messages, so a reset lands inside one.
    sync: { maxBatchRecords: 16 },
  },
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
  isolate('isolate-1', 'one node is cut off from all others', 2),
  isolate('isolate-heal', 'one node of 12 or more is cut off, then healed: no false deaths after the heal', 12),
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
];
