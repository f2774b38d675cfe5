import WebSocket from 'ws';
import * as Y from 'yjs';
import type { YjsCommand, YjsReply } from './yjs-ws-protocol.ts';

// The far side of the Yjs-over-WebSocket peer (bench/yjs-ws.ts): a process holding Y.Doc B.
// Usage: node --import tsx bench/yjs-ws-child.ts WS_URL NAME
//
// Binary messages are Yjs updates, applied to B as they arrive. Text messages are JSON commands
// (`YjsCommand`); replies are JSON (`YjsReply`), except that a change to the watched key is
// answered with the bare text `seen <value>`, the cheapest reply a map observer can send.

const [url, name] = process.argv.slice(2);
if (url === undefined || name === undefined) {
  process.stderr.write('usage: yjs-ws-child.ts WS_URL NAME\n');
  process.exit(2);
}

let doc = new Y.Doc();
let size = 0;
let watch: string | null = 'probe';
let expectSize = Infinity;
let ackNext = false;
const ws = new WebSocket(url, { perMessageDeflate: false });

const reply = (r: YjsReply): void => ws.send(JSON.stringify(r));

function fresh(): void {
  doc.destroy();
  doc = new Y.Doc();
  size = 0;
  observe();
}

function observe(): void {
  const map = doc.getMap<unknown>('m');
  map.observe((ev) => {
    for (const [, change] of ev.changes.keys) {
      if (change.action === 'add') size++;
      else if (change.action === 'delete') size--;
    }
    if (watch !== null && ev.keysChanged.has(watch)) ws.send(`seen ${String(map.get(watch))}`);
    if (size >= expectSize) {
      expectSize = Infinity;
      reply({ op: 'size', size });
    }
  });
}

function command(c: YjsCommand): void {
  switch (c.op) {
    case 'reset':
      fresh();
      return reply({ op: 'reset' });
    case 'watch':
      watch = c.key;
      return;
    case 'expect':
      if (size >= c.size) return reply({ op: 'size', size });
      expectSize = c.size;
      return;
    case 'ackNext':
      ackNext = true;
      return;
    case 'stateVector':
      return ws.send(Y.encodeStateVector(doc));
    case 'get': {
      const map = doc.getMap<unknown>('m');
      return reply({ op: 'values', values: c.keys.map((k) => map.get(k) ?? null) });
    }
  }
}

observe();
ws.on('open', () => reply({ op: 'hello', name, pid: process.pid }));
ws.on('message', (data: Buffer, isBinary: boolean) => {
  if (!isBinary) return command(JSON.parse(data.toString('utf8')) as YjsCommand);
  Y.applyUpdate(doc, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  if (ackNext) {
    ackNext = false;
    reply({ op: 'applied', size, bytes: data.byteLength });
  }
});
ws.on('close', () => process.exit(0));
ws.on('error', (e) => {
  process.stderr.write(`yjs child ${name}: ${e.message}\n`);
  process.exit(1);
});
