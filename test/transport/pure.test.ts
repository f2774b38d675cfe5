import { describe, expect, it } from 'vitest';
import { isDialable, parseAddress } from '../../src/transport/address.ts';
import { arbitrate, isArbiter, type Candidate, type ConnectionFacts } from '../../src/transport/arbiter.ts';
import { backoffDelayMs } from '../../src/transport/backoff.ts';
import { decodeLinkMessage, encodeData, encodeHello, encodeProof, encodeSelect, LINK_VERSION, type Hello } from '../../src/transport/link-messages.ts';
import { SendQueue } from '../../src/transport/send-queue.ts';

describe('backoff', () => {
  const o = { minMs: 100, maxMs: 30_000 };
  const table: readonly [number, number, number][] = [
    // attempt, random, delay
    [0, 0, 50],
    [0, 0.999999, 100],
    [1, 0, 100],
    [1, 0.5, 150],
    [3, 1 - 1e-9, 800],
    [8, 0, 12_800],
    [9, 0, 15_000], // 51,200 capped at 30,000
    [9, 1 - 1e-9, 30_000],
    [60, 0.5, 22_500], // never overflows
    [-1, 0, 50],
  ];
  it.each(table)('attempt %i, random %d → %i ms', (attempt, random, delay) => {
    expect(backoffDelayMs(attempt, o, random)).toBe(delay);
  });
});

describe('arbiter', () => {
  const current: ConnectionFacts = { id: 'c1', nodeId: 'n2', boot: 'b1' };
  const cand = (c: Partial<Candidate>): Candidate => ({ id: 'c2', nodeId: 'n2', boot: 'b1', replaces: null, ...c });
  const table: readonly [string, ConnectionFacts | null, Candidate, 'select' | 'duplicate'][] = [
    ['no current connection', null, cand({}), 'select'],
    ['both dialed at once', current, cand({}), 'duplicate'],
    ['the peer restarted', current, cand({ boot: 'b2' }), 'select'],
    ['another node took the address', current, cand({ nodeId: 'n3' }), 'select'],
    ['the peer lost the current one first', current, cand({ replaces: 'c1' }), 'select'],
    ['the peer replaces an older one', current, cand({ replaces: 'c0' }), 'duplicate'],
  ];
  it.each(table)('%s', (_name, cur, c, decision) => {
    expect(arbitrate(cur, c)).toBe(decision);
  });
  it('the lower node id arbitrates, so exactly one end does', () => {
    expect(isArbiter('1'.repeat(32), '2'.repeat(32))).toBe(true);
    expect(isArbiter('2'.repeat(32), '1'.repeat(32))).toBe(false);
  });
});

describe('addresses', () => {
  const table: readonly [string, boolean, boolean][] = [
    ['127.0.0.1:7000', true, true],
    ['nas.local:80', true, true],
    ['[::1]:7000', true, true],
    ['[fe80::1%eth0]:7000', true, true],
    ['127.0.0.1:0', true, false],
    ['127.0.0.1:65536', false, false],
    ['::1:7000', false, false],
    ['host', false, false],
    [':7000', false, false],
    ['a b:1', false, false],
    ['host:-1', false, false],
    ['host:1/mesh', false, false],
    ['user@host:1', false, false],
  ];
  it.each(table)('%s → parses %s, dialable %s', (s, parses, dialable) => {
    expect(parseAddress(s) !== undefined).toBe(parses);
    expect(isDialable(s)).toBe(dialable);
  });
});

describe('send queue', () => {
  const p = (n: number): Uint8Array => new Uint8Array(n);
  it('drops the oldest packets beyond its count', () => {
    const q = new SendQueue({ maxPackets: 2, maxStream: 2, maxBytes: 1000 });
    expect(q.push(Uint8Array.of(1), 'packet')).toEqual({ queued: true, droppedPackets: 0 });
    q.push(Uint8Array.of(2), 'packet');
    expect(q.push(Uint8Array.of(3), 'packet')).toEqual({ queued: true, droppedPackets: 1 });
    expect(q.take().map((m) => m.payload[0])).toEqual([2, 3]);
    expect(q.length).toBe(0);
  });
  it('says stream-overflow instead of dropping a stream message', () => {
    const q = new SendQueue({ maxPackets: 2, maxStream: 1, maxBytes: 1000 });
    expect(q.push(p(1), 'stream').queued).toBe(true);
    expect(q.push(p(1), 'stream')).toEqual({ queued: false, reason: 'stream-overflow' });
  });
  it('bounds bytes across channels, stream messages first on take', () => {
    const q = new SendQueue({ maxPackets: 10, maxStream: 10, maxBytes: 100 });
    q.push(p(40), 'packet');
    q.push(p(50), 'stream');
    expect(q.push(p(20), 'packet')).toEqual({ queued: true, droppedPackets: 1 }); // the 40 goes
    expect(q.push(p(60), 'packet')).toEqual({ queued: false, reason: 'packet-queue-full' });
    expect(q.push(p(31), 'stream')).toEqual({ queued: false, reason: 'stream-overflow' });
    expect(q.take().map((m) => [m.channel, m.payload.length])).toEqual([
      ['stream', 50],
      ['packet', 20],
    ]);
  });
});

describe('link messages', () => {
  const hello: Hello = { version: LINK_VERSION, nodeId: 'a'.repeat(32), address: '10.0.0.2:7000', challenge: new Uint8Array(16).fill(5), boot: '0123456789abcdef', replaces: null };
  it('round-trip', () => {
    expect(decodeLinkMessage(encodeHello(hello))).toEqual({ kind: 'hello', hello: { ...hello, challenge: expect.any(Uint8Array) } });
    expect(decodeLinkMessage(encodeProof(hello.challenge))).toMatchObject({ kind: 'proof' });
    expect(decodeLinkMessage(encodeSelect())).toEqual({ kind: 'select' });
    expect(decodeLinkMessage(encodeData(Uint8Array.of(9, 8)))).toEqual({ kind: 'data', payload: Uint8Array.of(9, 8) });
  });
  const bad: readonly [string, Uint8Array, string][] = [
    ['an empty payload', new Uint8Array(0), 'bad-kind'],
    ['an unknown kind', Uint8Array.of(200), 'bad-kind'],
    ['a hello that is not MessagePack', Uint8Array.of(1, 0xc1), 'bad-hello'],
    ['a hello with a bad node id', encodeHello({ ...hello, nodeId: 'x' }), 'bad-hello'],
    ['a hello with port 0', encodeHello({ ...hello, address: '10.0.0.2:0' }), 'bad-hello'],
    ['a hello with a short challenge', encodeHello({ ...hello, challenge: new Uint8Array(15) }), 'bad-hello'],
    ['a hello with version 0', encodeHello({ ...hello, version: 0 }), 'bad-hello'],
    ['a hello with a malformed replaces', encodeHello({ ...hello, replaces: 'zz' }), 'bad-hello'],
    ['a proof with a short echo', encodeProof(new Uint8Array(3)), 'bad-proof'],
    ['a select with a body', Uint8Array.of(3, 0), 'bad-kind'],
    ['a huge hello', Uint8Array.from([1, ...new Uint8Array(2000)]), 'bad-hello'],
  ];
  it.each(bad)('refuses %s', (_name, payload, reason) => {
    expect(decodeLinkMessage(payload)).toEqual({ kind: 'bad', reason });
  });
});
