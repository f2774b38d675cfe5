import { availableParallelism, loadavg } from 'node:os';
import { bulkChorus, type BulkRun, type BulkShape } from './bulk-chorus.ts';
import { bulkMosquitto, bulkYjs } from './bulk-peers.ts';
import { withTeardown } from './cleanup.ts';
import { alternate, median } from './measure.ts';
import { startMosquitto } from './mosquitto.ts';
import { DEFAULT_DURABILITY } from './chorus-proc.ts';
import type { Bench, BenchOptions, Metrics } from './types.ts';
import { YjsHub } from './yjs-ws.ts';

// 100,000 distinct field writes on A until B holds them all, durable on both, for Chorus (real
// processes, REST writes with bounded concurrency), Yjs over ws and mosquitto QoS 1.

const SYSTEMS = ['chorus', 'chorus_batched', 'yjs_ws', 'mosquitto_qos1'] as const;
type System = (typeof SYSTEMS)[number];

const CONCURRENCY = 64;
const FIELDS_PER_BATCH = 100;

function summarize(runs: readonly BulkRun[]): Metrics {
  const m: Metrics = {
    writes_per_s: median(runs.map((r) => r.writes / r.seconds)),
    seconds: median(runs.map((r) => r.seconds)),
    wire_bytes_per_write: median(runs.map((r) => r.wireBytes / r.writes)),
    wire_bytes_out_per_write: median(runs.map((r) => r.wireBytesOut / r.writes)),
  };
  for (const proc of Object.keys(runs[0]?.cpu ?? {})) m[`cpu_us_per_write_${proc}`] = median(runs.map((r) => ((r.cpu[proc] as number) * 1e6) / r.writes));
  return m;
}

async function run({ quick, log }: BenchOptions) {
  const writes = quick ? 2_000 : 100_000;
  const repetitions = quick ? 2 : 3;
  const perRequest: BulkShape = { requests: writes, fieldsPerRequest: 1, concurrency: CONCURRENCY };
  const batched: BulkShape = { requests: writes / FIELDS_PER_BATCH, fieldsPerRequest: FIELDS_PER_BATCH, concurrency: CONCURRENCY };
  const loadAtStart = loadavg()[0];
  const runs: Record<System, BulkRun[]> = { chorus: [], chorus_batched: [], yjs_ws: [], mosquitto_qos1: [] };

  await withTeardown(log, async (teardown) => {
    const broker = await startMosquitto();
    teardown.defer(() => broker.stop());
    const hub = await YjsHub.start();
    teardown.defer(() => hub.close());
    const peer = await hub.spawnPeer('b');
    teardown.defer(() => peer.stop());
    const once = (system: System): Promise<BulkRun> => {
      if (system === 'chorus') return bulkChorus(perRequest, log);
      if (system === 'chorus_batched') return bulkChorus(batched, log);
      if (system === 'yjs_ws') return bulkYjs(peer, writes);
      return bulkMosquitto(broker, writes, CONCURRENCY);
    };
    // One discarded small run of each, so no median includes JIT warm-up of the bench's side.
    await bulkYjs(peer, Math.min(writes, 10_000));
    await bulkMosquitto(broker, Math.min(writes, 10_000), CONCURRENCY);
    log('warm-up done');
    for (let rep = 0; rep < repetitions; rep++) {
      for (const system of alternate(SYSTEMS, rep)) {
        const r = await once(system);
        runs[system].push(r);
        const cpu = Object.entries(r.cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
        log(`rep ${rep + 1}/${repetitions} ${system}: ${Math.round(r.writes / r.seconds)} writes/s (${r.seconds.toFixed(2)} s), ${(r.wireBytes / r.writes).toFixed(1)} wire bytes/write; CPU s: ${cpu}`);
      }
    }
  });

  const results = Object.fromEntries(SYSTEMS.map((s) => [s, summarize(runs[s])])) as Record<System, Metrics>;
  const wps = (s: System): number => results[s]['writes_per_s'] as number;
  return {
    results,
    ratios: {
      writes_per_s_vs_yjs: wps('chorus') / wps('yjs_ws'),
      batched_writes_per_s_vs_yjs: wps('chorus_batched') / wps('yjs_ws'),
      writes_per_s_vs_mosquitto_qos1: wps('chorus') / wps('mosquitto_qos1'),
      wire_bytes_per_write_vs_yjs: (results.chorus['wire_bytes_per_write'] as number) / (results.yjs_ws['wire_bytes_per_write'] as number),
    },
    goals: { writes_per_s_vs_yjs: '>= 2.5' },
    params: {
      writes,
      repetitions,
      concurrency: CONCURRENCY,
      figures: 'medians over repetitions; systems alternate order between repetitions; writes_per_s = distinct field writes / seconds from the first send until the receiver holds all',
      chorus: `fresh two-node mesh per run (\`chorus start --preset local --log-level warn\`, default durability, API rate limit off via CHORUS_API_RATE_LIMIT=0; B seeded with A); ${writes} PATCH /api/v1/objects/w-<i> {v: i} to A over keep-alive node:http with ${CONCURRENCY} in flight, the final one after all others were acknowledged; done when B's /api/v1/node store.liveFields (polled every 50 ms) counts them all and B's event stream carried the final write's event (post-commit, so every earlier write is committed on B too); ${CONCURRENCY} warm-up writes before the clock starts`,
      chorus_batched: `informational: the same, ${writes / FIELDS_PER_BATCH} PATCH requests of ${FIELDS_PER_BATCH} fields each (distinct objects), ${CONCURRENCY} in flight`,
      wire_bytes: "chorus: A's transport counters (sealed frame bytes, WebSocket headers excluded) over the run, in + out, including membership and anti-entropy traffic; yjs: update payload bytes sent; mosquitto: TCP payload bytes of both client sockets (publisher→broker and broker→subscriber, both directions)",
      yjs_ws: 'Y.Doc A here, Y.Doc B in a child process (reset to empty per run) over ws; one transaction per map.set, each update one binary message; done when the child\'s map observer counted all keys; no persistence on either side',
      mosquitto_qos1: `QoS 1 publishes to topic w/<i> with at most ${CONCURRENCY} awaiting PUBACK, one QoS 1 subscriber on w/#; done when it has all (distinct); broker: persistence false, max_queued_messages 0`,
      cpu: 'cpu_us_per_write_<process>: user + system CPU of each process over the timed run (Linux /proc, 10 ms ticks) per write; bench is the benchmark process (HTTP client for chorus; writer doc for yjs; both MQTT clients for mosquitto)',
      chorus_durability: DEFAULT_DURABILITY,
      machine_cpus: availableParallelism(),
      load_average_1m_at_start: loadAtStart,
    },
  };
}

/** Bulk write throughput between two real nodes, Chorus versus Yjs over ws and mosquitto QoS 1. */
export const bench: Bench = {
  description: 'bulk-push-100k: 100,000 distinct field writes on A until B holds all (durable on both), real processes on 127.0.0.1, vs Yjs over ws and mosquitto QoS 1',
  run,
};
