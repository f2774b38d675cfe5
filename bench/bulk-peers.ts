import type { Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import type { BulkRun } from './bulk-chorus.ts';
import { within } from './measure.ts';
import { endClient, mqttClient, subscribeQos1, type Broker } from './mosquitto.ts';
import { CpuMeter } from './proc-cpu.ts';
import { fixedIdDoc } from './yjs-doc.ts';
import type { YjsPeer } from './yjs-ws.ts';

// The peers of bulk-push-100k: Yjs over ws (one transaction per set) and mosquitto QoS 1.

const RUN_TIMEOUT_MS = 600_000;
const keyOf = (i: number): string => `w-${String(i).padStart(7, '0')}`;

/**
 * Yjs: a fresh Y.Doc A here, the peer's doc reset to empty; `n` map.set calls, each in its own
 * transaction, each update sent as one binary message; done when the child's map holds `n` keys.
 */
export async function bulkYjs(peer: YjsPeer, n: number): Promise<BulkRun> {
  await peer.reset();
  peer.command({ op: 'watch', key: null });
  const doc = fixedIdDoc();
  const map = doc.getMap<number>('m');
  doc.on('update', (u: Uint8Array) => peer.sendUpdate(u));
  const done = peer.next('size');
  peer.command({ op: 'expect', size: n });
  const bytesBefore = peer.bytesOut;
  const cpu = new CpuMeter({ receiver: peer.child.pid });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) doc.transact(() => map.set(keyOf(i), i));
  const bytes = peer.bytesOut - bytesBefore;
  const reply = await within(done, RUN_TIMEOUT_MS, `yjs peer holding ${n} keys`);
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpu.read();
  if (reply.size !== n) throw new Error(`yjs peer holds ${reply.size} keys, expected ${n}`);
  const probe = [0, n >> 1, n - 1];
  const values = peer.next('values');
  peer.command({ op: 'get', keys: probe.map(keyOf) });
  const got = (await values).values;
  probe.forEach((i, k) => {
    if (got[k] !== i) throw new Error(`yjs peer: ${keyOf(i)} is ${String(got[k])}, expected ${i}`);
  });
  doc.destroy();
  return { seconds, writes: n, wireBytes: bytes, wireBytesOut: bytes, requests: n, cpu: cpuSeconds };
}

function socketBytes(c: MqttClient): number {
  const s = c.stream as unknown as Socket;
  return s.bytesWritten + s.bytesRead;
}

/**
 * Mosquitto: a publisher and a subscriber (QoS 1 on `w/#`) in this process; `n` QoS 1 publishes
 * to distinct topics with at most `window` awaiting PUBACK; done when the subscriber has all.
 */
export async function bulkMosquitto(broker: Broker, n: number, window: number): Promise<BulkRun> {
  const pub = await mqttClient(broker.url, 'bench-bulk-pub');
  const sub = await mqttClient(broker.url, 'bench-bulk-sub');
  try {
    await subscribeQos1(sub, 'w/#');
    const got = new Uint8Array(n);
    let count = 0;
    let duplicates = 0;
    const all = new Promise<void>((resolve) => {
      sub.on('message', (_topic, payload) => {
        const i = Number(payload.toString());
        if (got[i] === 1) duplicates++;
        else {
          got[i] = 1;
          if (++count === n) resolve();
        }
      });
    });
    const bytesBefore = socketBytes(pub) + socketBytes(sub);
    const pubBefore = (pub.stream as unknown as Socket).bytesWritten;
    const cpu = new CpuMeter({ broker: broker.child.pid });
    const t0 = performance.now();
    const published = new Promise<void>((resolve, reject) => {
      let next = 0;
      let inflight = 0;
      const pump = (): void => {
        while (inflight < window && next < n) {
          const i = next++;
          inflight++;
          pub.publish(`w/${i}`, String(i), { qos: 1 }, (err) => {
            inflight--;
            if (err) reject(err);
            else if (next < n) pump();
            else if (inflight === 0) resolve();
          });
        }
      };
      pump();
    });
    await within(Promise.all([published, all]), RUN_TIMEOUT_MS, `mosquitto subscriber holding ${n} messages`);
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = cpu.read();
    // QoS 1 is at-least-once: a duplicate is legal and not counted as a write.
    if (duplicates > 0) process.stderr.write(`[bulk-push-100k] mosquitto subscriber got ${duplicates} duplicates\n`);
    const wireBytes = socketBytes(pub) + socketBytes(sub) - bytesBefore;
    const wireBytesOut = (pub.stream as unknown as Socket).bytesWritten - pubBefore;
    return { seconds, writes: n, wireBytes, wireBytesOut, requests: n, cpu: cpuSeconds };
  } finally {
    await endClient(pub);
    await endClient(sub);
  }
}
