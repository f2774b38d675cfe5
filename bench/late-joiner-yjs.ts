import * as Y from 'yjs';
import { withTeardown } from './cleanup.ts';
import { changedIndexes, deviceId } from './late-joiner-chorus.ts';
import { within } from './measure.ts';
import { fixedIdDoc } from './yjs-doc.ts';
import { YjsHub, type YjsPeer } from './yjs-ws.ts';

// The Yjs side of late-joiner: Y.Doc A here with one map entry per object (the same values as
// the Chorus fixture); a fresh child process gets a full copy (encodeStateAsUpdate → applyUpdate
// over ws), then 1% of the keys change on A and a state-vector sync repairs the child.

const TIMEOUT_MS = 600_000;

/** One late-joiner run of Yjs. */
export interface YjsJoinRun {
  /** Spawn of the child until it connected (its process start, for the reader). */
  readonly idleStartS: number;
  /** Spawn of the child until it applied the full state. */
  readonly joinS: number;
  /** Connection until applied: the sync alone. */
  readonly syncS: number;
  readonly fullBytes: number;
  /** State-vector request until the diff was applied (no process restart). */
  readonly repairS: number;
  readonly stateVectorBytes: number;
  readonly diffBytes: number;
}

/** The fixture's object i as one Yjs map value. */
const valueOf = (i: number, level = i % 100): { on: boolean; level: number; room: string } => ({ on: i % 2 === 0, level, room: `room-${i % 17}` });

function buildDoc(objects: number): Y.Doc {
  const doc = fixedIdDoc();
  const map = doc.getMap<unknown>('m');
  doc.transact(() => {
    for (let i = 0; i < objects; i++) map.set(deviceId(i), valueOf(i));
  });
  return doc;
}

async function values(peer: YjsPeer, keys: string[]): Promise<unknown[]> {
  const reply = peer.next('values');
  peer.command({ op: 'get', keys });
  return (await reply).values;
}

/** One full run: full-state join of a fresh process, then a 1% divergence repaired by state vector. */
export function yjsJoin(objects: number, fraction: number, level: number, log: (line: string) => void): Promise<YjsJoinRun> {
  return withTeardown(log, async (teardown) => {
    const doc = buildDoc(objects);
    teardown.defer(() => doc.destroy());
    const hub = await YjsHub.start();
    teardown.defer(() => hub.close());
    let full: Uint8Array | undefined;
    let applied: Promise<{ size: number }> | undefined;
    const peer = await hub.spawnPeer('late', (p) => {
      // Runs as soon as the child said hello: encoding is part of the timed join, as Chorus's is.
      applied = p.next('applied');
      p.command({ op: 'ackNext' });
      full = Y.encodeStateAsUpdate(doc);
      p.sendUpdate(full);
    });
    teardown.defer(() => peer.stop());
    const got = await within(applied as Promise<{ size: number }>, TIMEOUT_MS, 'yjs full-state join');
    const joinedAt = performance.now();
    if (got.size !== objects) throw new Error(`yjs child holds ${got.size} keys, expected ${objects}`);
    const joinS = (joinedAt - peer.spawnedAt) / 1000;
    const syncS = (joinedAt - peer.helloAt) / 1000;

    const changed = changedIndexes(objects, fraction);
    const map = doc.getMap<unknown>('m');
    for (const i of changed) doc.transact(() => map.set(deviceId(i), valueOf(i, level)));
    const t0 = performance.now();
    const sv = new Promise<Uint8Array>((resolve) => peer.onBinary(resolve));
    peer.command({ op: 'stateVector' });
    const stateVector = await sv;
    const diff = Y.encodeStateAsUpdate(doc, stateVector);
    const repairedReply = peer.next('applied');
    peer.command({ op: 'ackNext' });
    peer.sendUpdate(diff);
    await within(repairedReply, TIMEOUT_MS, 'yjs state-vector repair');
    const repairS = (performance.now() - t0) / 1000;

    const probe = [...changed.slice(0, 3), objects - 1];
    const seen = await values(peer, probe.map(deviceId));
    probe.forEach((i, k) => {
      const want = changed.includes(i) ? level : i % 100;
      if ((seen[k] as { level?: unknown } | null)?.level !== want) throw new Error(`yjs child: ${deviceId(i)} is ${JSON.stringify(seen[k])}, expected level ${want}`);
    });
    const fullBytes = (full as Uint8Array).byteLength;
    log(`yjs: join ${joinS.toFixed(3)} s (sync ${syncS.toFixed(3)} s), ${fullBytes} bytes; repair ${repairS.toFixed(3)} s, ${stateVector.byteLength} + ${diff.byteLength} bytes`);
    return { idleStartS: (peer.helloAt - peer.spawnedAt) / 1000, joinS, syncS, fullBytes, repairS, stateVectorBytes: stateVector.byteLength, diffBytes: diff.byteLength };
  });
}
