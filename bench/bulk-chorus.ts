import { pollUntil, removeDir, tempDir, withTeardown } from './cleanup.ts';
import { nodeInfo, seedOf, startChorus, stopChorus, waitForMesh, type ChorusProc } from './chorus-proc.ts';
import { EventStream } from './event-stream.ts';
import { within } from './measure.ts';
import { CpuMeter } from './proc-cpu.ts';

// The Chorus side of bulk-push-100k: a fresh two-node mesh per run, writes through A's REST API
// with bounded concurrency, done when B's stats count them all AND B's event stream carried the
// event of the final write (published after B committed it; see `bulkChorus`).

const RUN_TIMEOUT_MS = 600_000;
const STATS_POLL_MS = 50;

/** One bulk run's outcome. */
export interface BulkRun {
  readonly seconds: number;
  /** Distinct field writes the receiver ended up holding. */
  readonly writes: number;
  /** Transport bytes on the writer's side of the wire during the run (both directions). */
  readonly wireBytes: number;
  /** Of which from the writer to the receiver. */
  readonly wireBytesOut: number;
  readonly requests: number;
  /** CPU seconds per process over the run: `bench` (this process) and the system's own. */
  readonly cpu: Record<string, number>;
}

/** What one run writes. */
export interface BulkShape {
  /** HTTP requests. */
  readonly requests: number;
  /** Fields per request (each a distinct field of a distinct object id per request). */
  readonly fieldsPerRequest: number;
  readonly concurrency: number;
}

const idOf = (i: number): string => `w-${String(i).padStart(7, '0')}`;

function bodyOf(i: number, fields: number): Record<string, number> {
  if (fields === 1) return { v: i };
  const body: Record<string, number> = {};
  for (let f = 0; f < fields; f++) body[`f${String(f).padStart(3, '0')}`] = i * fields + f;
  return body;
}

async function patch(a: ChorusProc, i: number, fields: number): Promise<void> {
  const r = await a.http.send('PATCH', `/api/v1/objects/${idOf(i)}`, bodyOf(i, fields));
  if (r.status !== 200) throw new Error(`PATCH ${idOf(i)}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
}

/** Sends requests 0..count-1 with at most `concurrency` in flight. */
async function writeAll(a: ChorusProc, count: number, fields: number, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await patch(a, next++, fields);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

async function warm(a: ChorusProc, concurrency: number): Promise<void> {
  // Opens the pool's sockets and warms the request path; these objects are outside the count.
  await Promise.all(Array.from({ length: concurrency }, (_, i) => a.http.send('PATCH', `/api/v1/objects/warm-${i}`, { v: i })));
}

/**
 * Writes `shape.requests × shape.fieldsPerRequest` distinct fields on A and times until B holds
 * them all durably. All requests but the final one go out with bounded concurrency; the final one
 * is sent after every other was acknowledged, so it is committed on A after them, pushed after
 * them on the same link and committed on B no earlier than them: its event on B (post-commit)
 * proves every write is durable on B. B's store stats, polled every 50 ms, must count them too.
 */
export function bulkChorus(shape: BulkShape, log: (line: string) => void): Promise<BulkRun> {
  return withTeardown(log, async (teardown) => {
    const dirs = [tempDir('chorus-bench-bulk-'), tempDir('chorus-bench-bulk-')];
    teardown.defer(() => dirs.forEach(removeDir));
    const a = await startChorus(dirs[0] as string, { name: 'a', maxSockets: shape.concurrency });
    teardown.defer(() => stopChorus(a));
    const b = await startChorus(dirs[1] as string, { name: 'b', seeds: [seedOf(a)] });
    teardown.defer(() => stopChorus(b));
    await waitForMesh([a, b]);
    await warm(a, shape.concurrency);
    const last = shape.requests - 1;
    const stream = await EventStream.open(b.url, { prefix: idOf(last) });
    teardown.defer(() => stream.close());
    let lastEventAt: number | undefined;
    stream.onObject((e) => {
      if (e.id === idOf(last)) lastEventAt ??= performance.now();
    });
    // B starts empty: it ends with the warm-up objects and the writes, one live field each.
    const bBase = await pollUntil('the warm-up writes on B', async () => ((await nodeInfo(b)).store.liveFields === shape.concurrency ? shape.concurrency : undefined), 20, 30_000);
    const aBase = (await nodeInfo(a)).transport;
    const want = bBase + shape.requests * shape.fieldsPerRequest;

    const cpu = new CpuMeter({ writer: a.child.pid, receiver: b.child.pid });
    const t0 = performance.now();
    let statsAt: number | undefined;
    let polling = true;
    const poll = (async () => {
      while (polling && statsAt === undefined) {
        const live = (await nodeInfo(b)).store.liveFields;
        if (live >= want) statsAt = performance.now();
        else await new Promise((r) => setTimeout(r, STATS_POLL_MS));
      }
    })();
    try {
      await within(
        (async () => {
          await writeAll(a, last, shape.fieldsPerRequest, shape.concurrency);
          await patch(a, last, shape.fieldsPerRequest);
          await poll;
          while (lastEventAt === undefined) {
            if (stream.closedWith !== undefined) throw new Error(`B closed its event stream: ${stream.closedWith}`);
            await new Promise((r) => setTimeout(r, 1));
          }
        })(),
        RUN_TIMEOUT_MS,
        `B holding ${shape.requests * shape.fieldsPerRequest} writes`,
      );
    } finally {
      polling = false;
    }
    const end = Math.max(statsAt as number, lastEventAt as number);
    const cpuSeconds = cpu.read();
    const aEnd = (await nodeInfo(a)).transport;
    const bInfo = await nodeInfo(b);
    if (bInfo.store.liveFields !== want) throw new Error(`B holds ${bInfo.store.liveFields} live fields, expected ${want}`);
    await check(b, shape);
    const writes = shape.requests * shape.fieldsPerRequest;
    const wireBytesOut = aEnd.bytesOut - aBase.bytesOut;
    return { seconds: (end - t0) / 1000, writes, wireBytes: wireBytesOut + (aEnd.bytesIn - aBase.bytesIn), wireBytesOut, requests: shape.requests, cpu: cpuSeconds };
  });
}

/** Spot-checks values on B (outside the timed region). */
async function check(b: ChorusProc, shape: BulkShape): Promise<void> {
  for (const i of [0, Math.floor(shape.requests / 2), shape.requests - 1]) {
    const { fields } = await b.http.json<{ fields: Record<string, unknown> }>('GET', `/api/v1/objects/${idOf(i)}`);
    const want = bodyOf(i, shape.fieldsPerRequest);
    for (const [k, v] of Object.entries(want)) if (fields[k] !== v) throw new Error(`B: ${idOf(i)}.${k} is ${String(fields[k])}, expected ${v}`);
  }
}
