import { Agent, request } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { cleanup, startNode, stopNode, tempDir } from '../test/node/proc.ts';
import { median, percentile } from './measure.ts';
import type { Bench, BenchReport } from './types.ts';
import { DEFAULT_DURABILITY } from './chorus-proc.ts';

// The round trip an integration pays for one PATCH through REST: a real `chorus start` node on
// loopback (default durability: the answer comes after the local SQLite commit), one
// keep-alive connection, requests one after another. Results only: no peer system to compare.

const OBJECTS = 100;

/** One PATCH on the kept-alive socket; resolves to the status once the body is read. */
function patch(agent: Agent, port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'PATCH', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function run(count: number, warmup: number, log: (line: string) => void): Promise<{ times: number[]; seconds: number }> {
  const dir = tempDir('chorus-bench-rest-');
  // The rate limit is off: 10,000 sequential requests exceed the default 200/s by design.
  const node = await startNode(dir, ['--name', 'bench', '--api-rate-limit', '0']);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const send = async (i: number): Promise<void> => {
      const status = await patch(agent, node.port, `/api/v1/objects/bench-${i % OBJECTS}`, JSON.stringify({ level: i, on: i % 2 === 0 }));
      if (status !== 200) throw new Error(`PATCH ${i} answered ${status}`);
    };
    for (let i = 0; i < warmup; i++) await send(i);
    log(`node up on port ${node.port}; ${warmup} warm-up PATCHes done, timing ${count}`);
    const times: number[] = new Array<number>(count);
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await send(i);
      times[i] = performance.now() - t0;
    }
    return { times, seconds: (performance.now() - start) / 1000 };
  } finally {
    agent.destroy();
    await stopNode(node);
    cleanup(dir);
  }
}

/** The `rest-patch` benchmark. */
export const bench: Bench = {
  description: 'PATCH round trip through REST on loopback to one real `chorus start` node (sequential, keep-alive)',
  async run({ quick, log }): Promise<BenchReport> {
    const count = quick ? 200 : 10_000;
    const warmup = quick ? 20 : 500;
    // Tail latencies follow the machine's load: recorded so a figure can be judged.
    const loadAtStart = loadavg()[0];
    const { times, seconds } = await run(count, warmup, log);
    const ms = (x: number): number => Math.round(x * 1000) / 1000;
    return {
      results: {
        chorus: {
          patch_p50_ms: ms(median(times)),
          patch_p90_ms: ms(percentile(times, 0.9)),
          patch_p99_ms: ms(percentile(times, 0.99)),
          patch_max_ms: ms(Math.max(...times)),
          patches_per_s: Math.round(count / seconds),
        },
      },
      ratios: {},
      goals: {},
      params: { requests: count, warmup, objects: OBJECTS, connection: 'one keep-alive socket, sequential', node: `chorus start --preset local, durability ${DEFAULT_DURABILITY} (the default), rate limit off`, body: '{"level":i,"on":bool}', machine_cpus: availableParallelism(), load_average_1m_at_start: loadAtStart, load_average_1m_at_end: loadavg()[0] },
    };
  },
};
