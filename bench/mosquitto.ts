import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { pollUntil, removeDir, stopChild, tempDir, trackChild } from './cleanup.ts';

// The Debian mosquitto broker as a benchmark peer: started on a free loopback port with its own
// config file, stopped (and its directory removed) by `stop`.

const MOSQUITTO = '/usr/sbin/mosquitto';

/** A running broker. */
export interface Broker {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** The config file's text, for the report. */
  readonly config: string;
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/**
 * Starts mosquitto with `listener PORT 127.0.0.1`, anonymous access and no persistence.
 * `max_queued_messages 0` lifts the default limit of 1,000 messages queued per client, which
 * would otherwise drop QoS 1 messages in a burst (a correctness setting, not a speed one).
 */
export async function startMosquitto(): Promise<Broker> {
  const dir = tempDir('chorus-bench-mosquitto-');
  const port = await freePort();
  const config = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 0', 'log_dest none', ''].join('\n');
  const file = join(dir, 'mosquitto.conf');
  writeFileSync(file, config);
  const child = spawn(MOSQUITTO, ['-c', file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const stop = async (): Promise<void> => {
    await stopChild(child, 'SIGTERM', 5_000);
    removeDir(dir);
  };
  try {
    await pollUntil(
      `mosquitto on port ${port}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${out}`);
        return (await accepts(port)) ? true : undefined;
      },
      10,
      10_000,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { port, url: `mqtt://127.0.0.1:${port}`, child, config, stop };
}

/** Connects an MQTT 3.1.1 client and resolves once the broker acknowledged the connection. */
export function mqttClient(url: string, clientId: string): Promise<MqttClient> {
  const opts: IClientOptions = { clientId, protocolVersion: 4, clean: true, reconnectPeriod: 0, connectTimeout: 10_000 };
  return new Promise((resolve, reject) => {
    const c = connect(url, opts);
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

/** Subscribes at QoS 1 and resolves once the broker granted it. */
export function subscribeQos1(c: MqttClient, topic: string): Promise<void> {
  return new Promise((resolve, reject) => {
    c.subscribe(topic, { qos: 1 }, (err, granted) => {
      if (err) reject(err);
      else if (granted?.[0]?.qos !== 1) reject(new Error(`subscription to ${topic} granted QoS ${String(granted?.[0]?.qos)}`));
      else resolve();
    });
  });
}

/** Ends a client, discarding anything unsent. */
export function endClient(c: MqttClient): Promise<void> {
  return new Promise((resolve) => c.end(true, {}, () => resolve()));
}
