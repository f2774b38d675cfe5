import { MessageType } from '../sync/messages.ts';
import type { FaultControl } from './fault-control.ts';
import type { Scenario } from './scenario.ts';
import { range } from './scenarios-network.ts';

/** Tombstone TTL of these scenarios: short enough that a run outlives it. */
const TTL_MS = 60_000;
/** How long the away node is gone: well past the TTL, so tombstones of the first 40 s are collectable. */
const AWAY_MS = 100_000;
/** Longest wait for B to hold C's writes in relay-before-ttl (C's membership gives up the unreachable others by then). */
const RELAY_WAIT_MS = 60_000;
/** Objects written in warmup and then left alone by the random workload, so a deletion of one stays a deletion. */
const KEPT = range(0, 8).map((i) => `kept-${i}`);

const settings = {
  lossOnly: false,
  store: { tombstoneTtlMs: TTL_MS },
  // Small batches: a snapshot or a catch-up spans several messages, so a cut lands inside one.
  sync: { maxBatchRecords: 16 },
  // A longer warmup: the kept objects have reached every node, by push or anti-entropy, before the fault.
  timing: { warmupMs: 15_000, faultMs: AWAY_MS },
  // Many whole-object deletes among the random writes, on ids every node holds; five writes a
  // second keep the long runs affordable at 20+ nodes.
  workload: { deleteObjectShare: 0.2, writeEveryMs: 200 },
} as const;

/** In warmup, node 0 creates the kept objects (every node holds them by the fault). */
function createKept(f: FaultControl): void {
  KEPT.forEach((id, k) => f.at(2000 + k * 10, () => f.write(0, { kind: 'put', id, fields: { a: k, b: 'warm' } })));
}

/** Early in the absence, `by` deletes half the kept objects and patches another; their tombstones are collectable by the heal. */
function deleteKept(f: FaultControl, by: number, atMs: number): void {
  f.at(atMs, () => KEPT.slice(0, 4).forEach((id) => f.write(by, { kind: 'deleteObject', id })));
  f.at(atMs + 1000, () => f.write(by, { kind: 'patch', id: KEPT[4] as string, fields: { b: 'mesh' } }));
}

/** The away node's own writes while away: one concurrent with a deletion, one delete, one patch. */
function writeAway(f: FaultControl, away: number, atMs: number): void {
  f.at(atMs, () => {
    f.write(away, { kind: 'patch', id: KEPT[2] as string, fields: { c: 'away' } });
    f.write(away, { kind: 'deleteObject', id: KEPT[6] as string });
    f.write(away, { kind: 'patch', id: KEPT[5] as string, fields: { b: 'away' } });
  });
}

/** After the heal, cut the away node's first anti-entropy exchange and its snapshot in the middle. */
function cutOnReturn(f: FaultControl, away: number): void {
  f.at(f.faultEndMs, () => {
    f.cutStream(away, MessageType.ACK, 1);
    f.cutStream(away, MessageType.SNAPSHOT_CHUNK, 2);
  });
}

/** Scenarios where a node is away longer than the tombstone TTL while the others delete and collect. */
export const TTL_SCENARIOS: readonly Scenario[] = [
  {
    ...settings,
    name: 'away-past-ttl',
    description: 'one running node is cut off longer than the tombstone TTL (60 s) while the others write, delete and collect; it writes too; then it heals',
    minNodes: 2,
    schedule(f) {
      const away = f.n - 1;
      createKept(f);
      f.at(f.faultStartMs, () => f.split([[away], range(0, away)]));
      deleteKept(f, 0, f.faultStartMs + 2000);
      writeAway(f, away, f.faultStartMs + 3000);
      cutOnReturn(f, away);
    },
  },
  {
    ...settings,
    name: 'restart-past-ttl',
    description: 'one node is stopped for longer than the tombstone TTL (60 s) while the others delete and collect; it restarts, still cut off, writes, then heals',
    minNodes: 2,
    schedule(f) {
      const away = f.n - 1;
      createKept(f);
      f.at(f.faultStartMs, () => {
        f.crash(away);
        f.split([[away], range(0, away)]);
      });
      deleteKept(f, 0, f.faultStartMs + 2000);
      const back = f.faultStartMs + TTL_MS + 25_000;
      f.at(back, () => f.restart(away));
      writeAway(f, away, back + 1000);
      cutOnReturn(f, away);
    },
  },
  {
    ...settings,
    name: 'relay-before-ttl',
    description: 'a write from C reaches only B (C stops once B holds it); B is away past the tombstone TTL while the others delete and collect; B comes back carrying it',
    minNodes: 3,
    // B's absence starts when C stops, at most RELAY_WAIT_MS into the fault window, and lasts AWAY_MS at least.
    timing: { ...settings.timing, faultMs: RELAY_WAIT_MS + AWAY_MS },
    schedule(f) {
      const b = f.n - 1;
      const c = f.n - 2;
      createKept(f);
      f.at(f.faultStartMs, () => f.split([[b, c], range(0, c)]));
      f.at(f.faultStartMs + 200, () => {
        f.write(c, { kind: 'patch', id: KEPT[1] as string, fields: { relay: 'c' } });
        f.write(c, { kind: 'patch', id: KEPT[7] as string, fields: { relay: 'c' } });
        f.write(c, { kind: 'put', id: 'relayed', fields: { by: 'c' } });
      });
      // In a large mesh the push may miss B (a random fanout): C stays up until B holds its writes.
      // If B never does within RELAY_WAIT_MS, C is not stopped (stopping the only holder of an
      // acknowledged write for good loses it whatever the protocol does): it rejoins the others.
      const stopC = (t: number): void => {
        const relayed = f.caughtUp(b, c);
        if (t < f.faultStartMs + RELAY_WAIT_MS && !relayed) return void f.at(t + 250, () => stopC(t + 250));
        if (relayed) f.crash(c);
        f.split([[b], range(0, b)]);
      };
      f.at(f.faultStartMs + 1000, () => stopC(f.faultStartMs + 1000));
      deleteKept(f, 0, f.faultStartMs + 2000);
      writeAway(f, b, f.faultStartMs + 3000);
      cutOnReturn(f, b);
    },
  },
];
