import { availableParallelism, loadavg } from 'node:os';
import { chorusJoin, type ChorusJoinRun } from './late-joiner-chorus.ts';
import { yjsJoin, type YjsJoinRun } from './late-joiner-yjs.ts';
import { alternate, median } from './measure.ts';
import { DEFAULT_DURABILITY } from './chorus-proc.ts';
import type { Bench, BenchOptions } from './types.ts';

// An empty node joining one that holds 100,000 objects: time and bytes to a full copy; then a 1%
// divergence repaired. Chorus: real `chorus start` processes; Yjs: a fresh process over ws.

const FRACTION = 0.01;

async function run({ quick, log }: BenchOptions) {
  const loadAtStart = loadavg()[0];
  const objects = quick ? 2_000 : 100_000;
  const repetitions = quick ? 2 : 3;
  const chorus: ChorusJoinRun[] = [];
  const yjs: YjsJoinRun[] = [];
  // One discarded small Yjs run: warms this process's Yjs encoder (Chorus has no bench-side hot path).
  log('warm-up run (discarded):');
  await yjsJoin(Math.min(objects, 10_000), FRACTION, 999, log);
  for (let rep = 0; rep < repetitions; rep++) {
    const level = 1000 + rep; // a value no object holds before the divergence
    for (const system of alternate(['chorus', 'yjs'] as const, rep)) {
      if (system === 'chorus') chorus.push(await chorusJoin(objects, FRACTION, level, log));
      else yjs.push(await yjsJoin(objects, FRACTION, level, log));
    }
    log(`rep ${rep + 1}/${repetitions} done`);
  }
  const med = <T>(xs: readonly T[], f: (x: T) => number): number => median(xs.map(f));
  const results = {
    chorus: {
      join_s: med(chorus, (r) => r.joinS),
      idle_start_s: med(chorus, (r) => r.idleStartS),
      join_bytes_in: med(chorus, (r) => r.joinBytesIn),
      join_bytes_out: med(chorus, (r) => r.joinBytesOut),
      repair_s: med(chorus, (r) => r.repairS),
      restart_ready_s: med(chorus, (r) => r.restartReadyS),
      repair_bytes_in: med(chorus, (r) => r.repairBytesIn),
      repair_bytes_out: med(chorus, (r) => r.repairBytesOut),
    },
    yjs: {
      join_s: med(yjs, (r) => r.joinS),
      idle_start_s: med(yjs, (r) => r.idleStartS),
      sync_s: med(yjs, (r) => r.syncS),
      full_bytes: med(yjs, (r) => r.fullBytes),
      repair_s: med(yjs, (r) => r.repairS),
      repair_state_vector_bytes: med(yjs, (r) => r.stateVectorBytes),
      repair_diff_bytes: med(yjs, (r) => r.diffBytes),
    },
  };
  const c = results.chorus;
  const y = results.yjs;
  return {
    results,
    ratios: {
      join_time_vs_yjs: c.join_s / y.join_s,
      repair_bytes_vs_full: c.repair_bytes_in / c.join_bytes_in,
      repair_bytes_vs_yjs: c.repair_bytes_in / y.repair_diff_bytes,
      join_bytes_vs_yjs: c.join_bytes_in / y.full_bytes,
    },
    goals: { join_time_vs_yjs: '<= 1.0', repair_bytes_vs_full: '<= 0.05' },
    params: {
      objects,
      changed: Math.floor(objects * FRACTION),
      repetitions,
      figures: 'medians over repetitions; systems alternate order between repetitions; each repetition starts from fresh data directories and a fresh doc',
      chorus_join:
        "A's data dir filled by seedDataDir (test/node/fixtures.ts: objects device-<i> {on, level, room}) outside the clock; A started and holding all; then empty B (`chorus start --preset local --log-level warn --seed A`, default durability, API rate limit off via CHORUS_API_RATE_LIMIT=0) timed from just before its spawn until its /api/v1/node (polled every 20 ms) reports every object and bootstrapping: false; nothing subtracted",
      chorus_idle_start: 'an empty node with no seeds, measured the same way (spawn until /api/v1/node answers with bootstrapping: false)',
      chorus_bytes: "B's transport counters (sealed frame bytes in/out, WebSocket headers excluded) at the moment it was seen complete",
      chorus_repair:
        "B stopped with SIGTERM; 1% of objects (every 100th) PATCHed on A ({level: new value}, 32 in flight); B respawned on the same data dir; timed from spawn (restart_ready_s: until its node.json appeared, i.e. its objects were loaded from SQLite and it listens) until B's event stream (/api/v1/events?since=0, so events before the connection count; published after commit) carried every changed object with the new level; bytes: B's counters since the respawn (handshake and membership included); every changed object then checked with GET",
      yjs_join:
        'Y.Doc A in the bench process, one map entry per object ({on, level, room}); a fresh child process (node --import tsx, as chorus runs) holding an empty Y.Doc connects over ws; on its hello, A encodes Y.encodeStateAsUpdate (timed) and sends it as one binary message; timed from spawn until the child reports it applied it; sync_s from its hello; bytes: the update',
      yjs_repair:
        'the same 1% of keys set to new values on A; the child sends Y.encodeStateVector, A answers Y.encodeStateAsUpdate(A, sv), the child applies it (no restart, no persistence); repair_bytes_vs_yjs compares Chorus bytes into B with the diff into the child',
      chorus_durability: DEFAULT_DURABILITY,
      machine_cpus: availableParallelism(),
      load_average_1m_at_start: loadAtStart,
    },
  };
}

/** A late joiner: full copy of 100,000 objects, then a 1% anti-entropy repair, Chorus versus Yjs. */
export const bench: Bench = {
  description: 'late-joiner: an empty node joins one holding 100,000 objects (time, bytes), then a 1% divergence is repaired, real processes on 127.0.0.1, vs Yjs over ws',
  run,
};
