import type { Scenario } from './scenario.ts';

/** Faults of the nodes' wall clocks (the HLC's physical time); timers run on monotonic time. */
export const CLOCK_SCENARIOS: readonly Scenario[] = [
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
  {
    name: 'clock-jump-far',
    description: 'one clock jumps 300 s ahead for 4 s, another runs 90 s behind for 30 s: beyond the drift bound',
    lossOnly: true,
    minNodes: 2,
    timing: { faultMs: 40_000 },
    schedule(f) {
      f.at(f.faultStartMs + 1000, () => f.jumpClock(f.n - 1, 300_000, 4000));
      f.at(f.faultStartMs + 5000, () => f.jumpClock(0, -90_000, 30_000));
    },
  },
  {
    name: 'clock-drift',
    description: "one node's clock runs 1% fast for the whole run",
    lossOnly: true,
    minNodes: 2,
    timing: { faultMs: 60_000 },
    schedule(f) {
      // Called during scheduling, so it holds from virtual time 0, before any node starts.
      f.driftClock(f.n - 1, 1.01);
    },
  },
];
