import type { MqttClient } from 'mqtt';
import { removeDir, tempDir } from './cleanup.ts';
import { seedOf, startChorus, stopChorus, waitForMesh, type ChorusProc } from './chorus-proc.ts';
import { EventStream } from './event-stream.ts';
import { within } from './measure.ts';
import { endClient, mqttClient, startMosquitto, subscribeQos1, type Broker } from './mosquitto.ts';
import { fixedIdDoc } from './yjs-doc.ts';
import { YjsHub, type YjsPeer } from './yjs-ws.ts';

// The three systems of propagate-1, each as a Prober: one writer, `receivers` readers, one value
// in flight at a time.

const SAMPLE_TIMEOUT_MS = 10_000;

/** One timed change: from just before the send until the last receiver reported the value. */
export interface Probe {
  /** Milliseconds to the last receiver. */
  readonly allMs: number;
  /** Milliseconds to the first receiver. */
  readonly firstMs: number;
  /** Milliseconds until the writer's own acknowledgement (HTTP response, PUBACK); NaN when there is none. */
  readonly ackMs: number;
}

/** A system under test: a writer and its receivers, already connected. */
export interface Prober {
  readonly system: string;
  readonly receivers: number;
  /** Writes `value` and resolves once every receiver has it and the writer's acknowledgement is in. */
  probe(value: number): Promise<Probe>;
  stop(): Promise<void>;
}

/** Collects the arrivals of one value at several receivers, timestamped as they happen. */
export class Arrivals {
  private want: string | undefined;
  private seen = new Set<number>();
  private firstAt = 0;
  private resolve: ((at: { first: number; last: number }) => void) | undefined;

  constructor(private readonly receivers: number) {}

  /** Starts waiting for `value`; resolves with the first and last arrival times. */
  expect(value: string): Promise<{ first: number; last: number }> {
    this.want = value;
    this.seen = new Set();
    return new Promise((resolve) => (this.resolve = resolve));
  }

  /** A receiver reports a value. */
  arrived(receiver: number, value: string): void {
    if (value !== this.want || this.seen.has(receiver)) return;
    const at = performance.now();
    if (this.seen.size === 0) this.firstAt = at;
    this.seen.add(receiver);
    if (this.seen.size === this.receivers) {
      this.want = undefined;
      this.resolve?.({ first: this.firstAt, last: at });
    }
  }
}

function timedProbe(what: string, t0: number, arrivals: Promise<{ first: number; last: number }>, ack: Promise<number>): Promise<Probe> {
  const all = Promise.all([arrivals, ack]).then(([a, ackAt]) => ({ allMs: a.last - t0, firstMs: a.first - t0, ackMs: ackAt - t0 }));
  return within(all, SAMPLE_TIMEOUT_MS, what);
}

/**
 * Chorus: `1 + receivers` `chorus start` processes, all seeded with the writer A. The bench
 * PATCHes object `probe` on A over keep-alive HTTP and watches each receiver's event stream;
 * an event is published only after the change is committed to that receiver's SQLite.
 */
export async function chorusProber(receivers: number): Promise<Prober> {
  const dirs = Array.from({ length: receivers + 1 }, () => tempDir('chorus-bench-prop-'));
  const nodes: ChorusProc[] = [];
  const streams: EventStream[] = [];
  const stop = async (): Promise<void> => {
    for (const s of streams) s.close();
    await Promise.all(nodes.map((n) => stopChorus(n)));
    for (const d of dirs) removeDir(d);
  };
  try {
    const a = await startChorus(dirs[0] as string, { name: 'a' });
    nodes.push(a);
    nodes.push(...(await Promise.all(dirs.slice(1).map((d, i) => startChorus(d, { name: `r${i + 1}`, seeds: [seedOf(a)] })))));
    await waitForMesh(nodes);
    const arrivals = new Arrivals(receivers);
    for (const [i, n] of nodes.slice(1).entries()) {
      const s = await EventStream.open(n.url, { prefix: 'probe' });
      s.onObject((e) => {
        if (e.id === 'probe') arrivals.arrived(i, String(e.set['v']));
      });
      streams.push(s);
    }
    return {
      system: 'chorus',
      receivers,
      probe(value) {
        const seen = arrivals.expect(String(value));
        const t0 = performance.now();
        const ack = a.http.send('PATCH', '/api/v1/objects/probe', { v: value }).then((r) => {
          if (r.status !== 200) throw new Error(`PATCH probe: HTTP ${r.status} ${r.text}`);
          return performance.now();
        });
        return timedProbe(`chorus: value ${value} on ${receivers} receivers`, t0, seen, ack);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Mosquitto: the broker on a free port, one publishing client and `receivers` subscribing
 * clients in this process; QoS 1 publish to a QoS 1 subscription.
 */
export async function mosquittoProber(receivers: number): Promise<Prober> {
  let broker: Broker | undefined;
  const clients: MqttClient[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(clients.map((c) => endClient(c)));
    await broker?.stop();
  };
  try {
    broker = await startMosquitto();
    const url = broker.url;
    const pub = await mqttClient(url, 'bench-pub');
    clients.push(pub);
    const arrivals = new Arrivals(receivers);
    for (let i = 0; i < receivers; i++) {
      const sub = await mqttClient(url, `bench-sub-${i}`);
      clients.push(sub);
      await subscribeQos1(sub, 'probe');
      sub.on('message', (_topic, payload) => arrivals.arrived(i, payload.toString()));
    }
    return {
      system: 'mosquitto_qos1',
      receivers,
      probe(value) {
        const text = String(value);
        const seen = arrivals.expect(text);
        const t0 = performance.now();
        const ack = new Promise<number>((resolve, reject) => pub.publish('probe', text, { qos: 1 }, (err) => (err ? reject(err) : resolve(performance.now()))));
        return timedProbe(`mosquitto: value ${value} on ${receivers} receivers`, t0, seen, ack);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Yjs over WebSocket: this process holds Y.Doc A; each receiver is a child process holding a
 * Y.Doc B. Every update of A goes to each child as one binary message; the child applies it and
 * its map observer answers `seen <value>`.
 */
export async function yjsProber(receivers: number): Promise<Prober> {
  const hub = await YjsHub.start();
  const peers: YjsPeer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(peers.map((p) => p.stop()));
    await hub.close();
  };
  try {
    peers.push(...(await Promise.all(Array.from({ length: receivers }, (_, i) => hub.spawnPeer(`b${i}`)))));
    const arrivals = new Arrivals(receivers);
    for (const [i, p] of peers.entries()) p.onSeen((v) => arrivals.arrived(i, v));
    const doc = fixedIdDoc();
    const map = doc.getMap<number>('m');
    doc.on('update', (u: Uint8Array) => {
      for (const p of peers) p.sendUpdate(u);
    });
    return {
      system: 'yjs_ws',
      receivers,
      probe(value) {
        const seen = arrivals.expect(String(value));
        const t0 = performance.now();
        map.set('probe', value);
        return timedProbe(`yjs: value ${value} on ${receivers} receivers`, t0, seen, Promise.resolve(Number.NaN));
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
