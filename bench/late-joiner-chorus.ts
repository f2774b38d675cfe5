import { seedDataDir } from '../test/node/fixtures.ts';
import { pollUntil, removeDir, tempDir, withTeardown } from './cleanup.ts';
import { nodeInfo, seedOf, startChorus, stopChorus, type ChorusProc } from './chorus-proc.ts';
import { EventStream } from './event-stream.ts';
import { within } from './measure.ts';

// The Chorus side of late-joiner: A holds `objects` objects (seeded outside the clock with
// test/node/fixtures.ts), an empty B joins it; then B stops, A changes 1% of the objects, and B
// restarts and is repaired by anti-entropy.

const INFO_POLL_MS = 20;
const TIMEOUT_MS = 600_000;
const CONCURRENCY = 32;

/** One late-joiner run of Chorus. */
export interface ChorusJoinRun {
  /** Spawn of an idle node (no seeds, empty) until its API answers with bootstrapping false. */
  readonly idleStartS: number;
  /** Spawn of empty B until B reports every object and bootstrapping false. */
  readonly joinS: number;
  /** B's transport bytes in and out at that moment. */
  readonly joinBytesIn: number;
  readonly joinBytesOut: number;
  /** Respawn of B until its node.json appeared: its 100,000 objects loaded from SQLite, listening. */
  readonly restartReadyS: number;
  /** Respawn of B (after the divergence) until B's event stream carried every changed object. */
  readonly repairS: number;
  /** B's transport bytes in and out since the respawn, at that moment. */
  readonly repairBytesIn: number;
  readonly repairBytesOut: number;
}

/** The fixture's object ids (test/node/fixtures.ts) and the 1% the divergence changes. */
export const deviceId = (i: number): string => `device-${String(i).padStart(6, '0')}`;
export const changedIndexes = (objects: number, fraction: number): number[] => {
  const step = Math.round(1 / fraction);
  return Array.from({ length: Math.floor(objects / step) }, (_, k) => k * step);
};

async function untilInfo(n: ChorusProc, what: string, ok: (i: Awaited<ReturnType<typeof nodeInfo>>) => boolean): Promise<{ at: number; info: Awaited<ReturnType<typeof nodeInfo>> }> {
  return pollUntil(
    what,
    async () => {
      const info = await nodeInfo(n);
      return ok(info) ? { at: performance.now(), info } : undefined;
    },
    INFO_POLL_MS,
    TIMEOUT_MS,
  );
}

async function idleStart(log: (line: string) => void): Promise<number> {
  return withTeardown(log, async (teardown) => {
    const dir = tempDir('chorus-bench-idle-');
    teardown.defer(() => removeDir(dir));
    const n = await startChorus(dir, { name: 'idle' });
    teardown.defer(() => stopChorus(n));
    const { at } = await untilInfo(n, 'an idle node answering', (i) => !i.bootstrapping);
    return (at - n.spawnedAt) / 1000;
  });
}

async function patchAll(a: ChorusProc, indexes: readonly number[], level: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < indexes.length) {
      const id = deviceId(indexes[next++] as number);
      const r = await a.http.send('PATCH', `/api/v1/objects/${id}`, { level });
      if (r.status !== 200) throw new Error(`PATCH ${id}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** Resolves with the arrival time of the last of `ids` to show `level` on B's stream. */
async function repaired(b: ChorusProc, ids: ReadonlySet<string>, level: number): Promise<number> {
  // since=0 replays B's history from its start, so events published before we connected count.
  const stream = await EventStream.open(b.url, { since: 0, prefix: 'device-' });
  try {
    if (stream.control['reset'] !== undefined) throw new Error("B's event history is too short to replay the repair");
    const seen = new Set<string>();
    const done = new Promise<number>((resolve) =>
      stream.onObject((e) => {
        if (e.set['level'] === level && ids.has(e.id)) seen.add(e.id);
        if (seen.size === ids.size) resolve(performance.now());
      }),
    );
    return await within(done, TIMEOUT_MS, `B repaired (${seen.size}/${ids.size} seen)`);
  } finally {
    stream.close();
  }
}

/** Checks every changed object on B and a few others (outside the clock). */
async function check(b: ChorusProc, objects: number, changed: readonly number[], level: number): Promise<void> {
  for (const i of changed) {
    const { fields } = await b.http.json<{ fields: Record<string, unknown> }>('GET', `/api/v1/objects/${deviceId(i)}`);
    if (fields['level'] !== level) throw new Error(`B: ${deviceId(i)}.level is ${String(fields['level'])}, expected ${level}`);
  }
  const last = objects - 1;
  const { fields } = await b.http.json<{ fields: Record<string, unknown> }>('GET', `/api/v1/objects/${deviceId(last)}`);
  if (fields['level'] !== last % 100) throw new Error(`B: ${deviceId(last)}.level is ${String(fields['level'])}, expected ${last % 100}`);
}

/** One full run: idle start, join, stop, divergence, restart and repair. */
export function chorusJoin(objects: number, fraction: number, level: number, log: (line: string) => void): Promise<ChorusJoinRun> {
  return withTeardown(log, async (teardown) => {
    const idleStartS = await idleStart(log);
    const dirA = tempDir('chorus-bench-join-a-');
    const dirB = tempDir('chorus-bench-join-b-');
    teardown.defer(() => [dirA, dirB].forEach(removeDir));
    await seedDataDir(dirA, objects);
    const a = await startChorus(dirA, { name: 'a', maxSockets: CONCURRENCY });
    teardown.defer(() => stopChorus(a));
    await untilInfo(a, `A holding ${objects} objects`, (i) => i.store.objects === objects);

    const b = await startChorus(dirB, { name: 'b', seeds: [seedOf(a)] });
    let bRunning: ChorusProc = b;
    teardown.defer(() => stopChorus(bRunning));
    const joined = await untilInfo(b, `B holding ${objects} objects`, (i) => i.store.objects === objects && !i.bootstrapping);
    const joinS = (joined.at - b.spawnedAt) / 1000;
    log(`chorus: idle start ${idleStartS.toFixed(3)} s, join ${joinS.toFixed(3)} s, ${joined.info.transport.bytesIn} bytes in`);

    await stopChorus(b);
    const changed = changedIndexes(objects, fraction);
    await patchAll(a, changed, level);
    const b2 = await startChorus(dirB, { name: 'b', seeds: [seedOf(a)] });
    bRunning = b2;
    const doneAt = await repaired(b2, new Set(changed.map(deviceId)), level);
    const after = (await nodeInfo(b2)).transport;
    const repairS = (doneAt - b2.spawnedAt) / 1000;
    const restartReadyS = (b2.readyAt - b2.spawnedAt) / 1000;
    log(`chorus: repair of ${changed.length} objects ${repairS.toFixed(3)} s (restart ready after ${restartReadyS.toFixed(3)} s), ${after.bytesIn} bytes in`);
    await check(b2, objects, changed, level);
    return { idleStartS, joinS, joinBytesIn: joined.info.transport.bytesIn, joinBytesOut: joined.info.transport.bytesOut, restartReadyS, repairS, repairBytesIn: after.bytesIn, repairBytesOut: after.bytesOut };
  });
}
