import { availableParallelism, loadavg } from 'node:os';
import { withTeardown } from './cleanup.ts';
import { alternate, median, percentile } from './measure.ts';
import { chorusProber, mosquittoProber, yjsProber, type Probe, type Prober } from './propagate-probers.ts';
import { DEFAULT_DURABILITY } from './chorus-proc.ts';
import type { Bench, BenchOptions, Metrics } from './types.ts';

// One field change on a writer until it is visible on the other nodes, one change in flight at
// a time, for Chorus (real `chorus start` processes), mosquitto QoS 1 and Yjs over WebSocket.
// Phase N=2 is the headline (A→B); N=3 and N=5 time the change until every other node has it.

const SYSTEMS = ['chorus', 'mosquitto_qos1', 'yjs_ws'] as const;
type System = (typeof SYSTEMS)[number];

interface Phase {
  /** Nodes in the mesh: the writer plus nodes - 1 receivers. */
  readonly nodes: number;
  readonly samples: number;
  /** Metric name prefix: '' for A→B, 'all3_' for "to all of 3". */
  readonly prefix: string;
}

/** Per repetition: samples per system, in the order they were taken. */
type RepSamples = Record<System, Probe[]>;

function makeProber(system: System, receivers: number): Promise<Prober> {
  if (system === 'chorus') return chorusProber(receivers);
  if (system === 'mosquitto_qos1') return mosquittoProber(receivers);
  return yjsProber(receivers);
}

let nextValue = 1;

async function sample(p: Prober, count: number): Promise<Probe[]> {
  const out: Probe[] = [];
  for (let i = 0; i < count; i++) out.push(await p.probe(nextValue++));
  return out;
}

async function runPhase(phase: Phase, repetitions: number, warmup: number, log: (line: string) => void): Promise<RepSamples[]> {
  return withTeardown(log, async (teardown) => {
    const probers = {} as Record<System, Prober>;
    for (const system of SYSTEMS) {
      const p = await makeProber(system, phase.nodes - 1);
      teardown.defer(() => p.stop());
      probers[system] = p;
    }
    log(`N=${phase.nodes}: all systems up; ${warmup} warm-up samples each`);
    for (const system of SYSTEMS) await sample(probers[system], warmup);
    const perRep = Math.ceil(phase.samples / repetitions);
    const reps: RepSamples[] = [];
    for (let rep = 0; rep < repetitions; rep++) {
      const r = {} as RepSamples;
      for (const system of alternate(SYSTEMS, rep)) {
        r[system] = await sample(probers[system], perRep);
        const all = r[system].map((s) => s.allMs);
        log(`N=${phase.nodes} rep ${rep + 1}/${repetitions} ${system}: p50 ${percentile(all, 0.5).toFixed(3)} ms, p99 ${percentile(all, 0.99).toFixed(3)} ms over ${all.length}`);
      }
      reps.push(r);
    }
    return reps;
  });
}

/** Median over repetitions of each repetition's quantile. */
function repQuantile(reps: readonly RepSamples[], system: System, q: number, pick: (p: Probe) => number): number {
  return median(reps.map((r) => percentile(r[system].map(pick), q)));
}

function phaseMetrics(phase: Phase, reps: readonly RepSamples[]): Record<System, Metrics> {
  const out = {} as Record<System, Metrics>;
  for (const system of SYSTEMS) {
    const m: Metrics = {
      [`${phase.prefix}p50_ms`]: repQuantile(reps, system, 0.5, (p) => p.allMs),
      [`${phase.prefix}p99_ms`]: repQuantile(reps, system, 0.99, (p) => p.allMs),
    };
    if (phase.nodes > 2) m[`${phase.prefix}first_p50_ms`] = repQuantile(reps, system, 0.5, (p) => p.firstMs);
    if (phase.nodes === 2 && system !== 'yjs_ws') m['ack_p50_ms'] = repQuantile(reps, system, 0.5, (p) => p.ackMs);
    out[system] = m;
  }
  return out;
}

async function run({ quick, log }: BenchOptions) {
  const loadAtStart = loadavg()[0];
  const repetitions = quick ? 2 : 5;
  // Fresh chorus processes keep getting faster for about a thousand writes (V8 tiering up): warm
  // every system that long so the first repetition is not an outlier.
  const warmup = quick ? 20 : 1_000;
  const phases: Phase[] = [
    { nodes: 2, samples: quick ? 200 : 10_000, prefix: '' },
    { nodes: 3, samples: quick ? 60 : 2_000, prefix: 'all3_' },
    { nodes: 5, samples: quick ? 60 : 2_000, prefix: 'all5_' },
  ];
  const results: Record<System, Metrics> = { chorus: {}, mosquitto_qos1: {}, yjs_ws: {} };
  for (const phase of phases) {
    const metrics = phaseMetrics(phase, await runPhase(phase, repetitions, warmup, log));
    for (const system of SYSTEMS) Object.assign(results[system], metrics[system]);
  }
  const c = results.chorus;
  const ratio = (metric: string, peer: System): number => (c[metric] as number) / (results[peer][metric] as number);
  const ratios: Record<string, number> = {};
  for (const peer of ['mosquitto_qos1', 'yjs_ws'] as const) {
    for (const metric of ['p50_ms', 'p99_ms', 'all3_p50_ms', 'all5_p50_ms']) ratios[`${metric.replace('_ms', '')}_vs_${peer}`] = ratio(metric, peer);
  }
  return {
    results,
    ratios,
    goals: { p50_vs_mosquitto_qos1: '<= 1.2' },
    params: {
      phases: phases.map((p) => ({ nodes: p.nodes, samples: p.samples, samples_per_repetition: Math.ceil(p.samples / repetitions) })),
      repetitions,
      warmup_samples_per_system: warmup,
      figures: 'p50/p99: per repetition over its samples (nearest rank), then the median over repetitions; systems alternate order between repetitions; one value in flight at a time',
      chorus:
        'real `chorus start --preset local --log-level warn` processes (default durability, API rate limit off via CHORUS_API_RATE_LIMIT=0), receivers seeded with A; timed from just before PATCH /api/v1/objects/probe {v: i} to A (keep-alive node:http) until the event with v = i arrives on each receiver\'s /api/v1/events?kinds=object&prefix=probe WebSocket (published after that node committed it); the next sample also waits for the HTTP response (ack_p50_ms)',
      mosquitto_qos1: 'Debian mosquitto started by the bench (listener on 127.0.0.1, anonymous, persistence false, max_queued_messages 0); mqtt.js 3.1.1 clients in the bench process; timed from publish(qos 1) to each QoS 1 subscriber\'s message handler; the next sample also waits for PUBACK (ack_p50_ms)',
      yjs_ws: 'Y.Doc A in the bench process; each receiver a child process (node --import tsx) holding Y.Doc B over a ws WebSocket; every update sent as one binary message; timed from map.set on A until the child\'s map observer answers `seen i`',
      all_n: 'allN_*: until every one of the N-1 other nodes has the value; allN_first_p50_ms: until the first of them has it',
      chorus_durability: DEFAULT_DURABILITY,
      machine_cpus: availableParallelism(),
      load_average_1m_at_start: loadAtStart,
    },
  };
}

/** Propagation latency of one field change, Chorus versus mosquitto QoS 1 and Yjs over ws. */
export const bench: Bench = {
  description: 'propagate-1: one field change on A until visible on B (10,000 samples; and to all of 3 and 5 nodes), real processes on 127.0.0.1, vs mosquitto QoS 1 and Yjs over ws',
  run,
};
