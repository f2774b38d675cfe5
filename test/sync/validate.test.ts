import { describe, expect, it } from 'vitest';
import { MessageType } from '../../src/sync/messages.ts';
import { validateMessage } from '../../src/sync/validate.ts';
import { WIRE_LIMITS } from '../../src/sync/validate-fields.ts';
import { decodeMessage, encodeMessage, Undecodable } from '../../src/sync/wire.ts';
import { A, B, EXAMPLES, RECORD_A } from './examples.ts';

const ex = (name: string): Record<string, unknown> => {
  const m = EXAMPLES[name];
  if (m === undefined) throw new Error(`no example ${name}`);
  return m as unknown as Record<string, unknown>;
};

describe('validateMessage: valid examples', () => {
  it.each(Object.keys(EXAMPLES))('%s passes unchanged', (name) => {
    const result = validateMessage(ex(name));
    expect(result).toEqual({ ok: true, message: ex(name) });
  });

  it('returns a fresh message without unknown keys (forward compatible)', () => {
    const result = validateMessage({ ...ex('PING'), extra: 'ignored' });
    expect(result.ok && result.message).toEqual(ex('PING'));
    expect(result.ok && 'extra' in result.message).toBe(false);
  });

  it('copies digests into objects holding only checked keys', () => {
    const digest = Object.create({ [B]: 99 }) as Record<string, number>;
    digest[A] = 3;
    const result = validateMessage({ ...ex('SYN'), store: digest });
    expect(result.ok && result.message.t === MessageType.SYN && result.message.store).toEqual({ [A]: 3 });
    expect(result.ok && result.message.t === MessageType.SYN && result.message.store?.[B]).toBeUndefined();
  });
});

type Case = readonly [example: string, field: string, reason: string, value: unknown];

const BAD: readonly Case[] = [
  ['PING', 'from', 'bad-field:from', 'not-a-node'],
  ['PING', 'from', 'bad-field:from', undefined],
  ['PING', 'gossip', 'bad-field:gossip', 'x'],
  ['PING', 'reliable', 'bad-field:reliable', 'yes'],
  ['STORED', 'digest', 'bad-field:digest', { nope: 1 }],
  ['PING', 'gossip', 'too-many-items', new Array(WIRE_LIMITS.maxGossip + 1).fill(RECORD_A)],
  ['HELLO', 'mesh', 'bad-field:mesh', 5],
  ['HELLO', 'mesh', 'bad-field:mesh', 'm'.repeat(300)],
  ['HELLO', 'versions', 'bad-field:versions', [0, 1]],
  ['HELLO', 'versions', 'bad-field:versions', [2, 1]],
  ['HELLO', 'versions', 'bad-field:versions', [1]],
  ['HELLO', 'record', 'bad-field:record', null],
  ['HELLO', 'record', 'bad-field:record', { ...RECORD_A, nodeId: B }],
  ['HELLO', 'bootNonce', 'bad-field:bootNonce', ''],
  ['WELCOME', 'version', 'bad-field:version', 0],
  ['WELCOME', 'version', 'bad-field:version', -1],
  ['WELCOME', 'refused', 'bad-field:refused', 'nope'],
  ['WELCOME', 'refused', 'bad-field:version', 'version-mismatch'],
  ['WELCOME', 'versions', 'bad-field:versions', 'x'],
  ['WELCOME', 'mesh', 'bad-field:mesh', null],
  ['WELCOME', 'record', 'bad-field:record', []],
  ['WELCOME', 'bootNonce', 'bad-field:bootNonce', 3],
  ['SYN', 'members', 'bad-field:members', { zz: [1, 0, 0] }],
  ['SYN', 'members', 'bad-field:members', { [A]: [1, 0, 9] }],
  ['SYN', 'members', 'bad-field:members', { [A]: [1, 0] }],
  ['SYN', 'members', 'bad-field:members', []],
  ['SYN', 'store', 'bad-field:store', { [A]: -1 }],
  ['SYN', 'store', 'bad-field:store', { [A]: 1.5 }],
  ['SYN', 'store', 'bad-field:store', 'x'],
  ['ACK', 'records', 'bad-field:records', 'x'],
  ['ACK', 'records', 'too-many-items', new Array(WIRE_LIMITS.maxRecords + 1).fill(0)],
  ['ACK', 'covers', 'bad-field:covers', [{ origin: A, from: 2, to: 1 }]],
  ['ACK', 'covers', 'bad-field:covers', [{ origin: 'x', from: 0, to: 1 }]],
  ['ACK', 'covers', 'bad-field:covers', [null]],
  ['ACK', 'complete', 'bad-field:complete', 'yes'],
  ['ACK', 'members', 'bad-field:members', {}],
  ['ACK', 'memberDigest', 'bad-field:memberDigest', null],
  ['ACK', 'store', 'bad-field:store', 7],
  ['ACK2', 'records', 'bad-field:records', null],
  ['ACK2', 'covers', 'bad-field:covers', 'x'],
  ['ACK2', 'complete', 'bad-field:complete', 1],
  ['ACK2', 'members', 'bad-field:members', undefined],
  ['PUSH', 'hops', 'bad-field:hops', 16],
  ['PUSH', 'hops', 'bad-field:hops', -1],
  ['PUSH', 'records', 'bad-field:records', {}],
  ['PING', 'probeSeq', 'bad-field:probeSeq', -1],
  ['PING_REQ', 'target', 'bad-field:target', 'x'],
  ['PING_ACK', 'probeSeq', 'bad-field:probeSeq', '1'],
  ['SNAPSHOT_REQ', 'cursor', 'bad-field:cursor', ''],
  ['SNAPSHOT_REQ', 'cursor', 'bad-field:cursor', 5],
  ['SNAPSHOT_CHUNK', 'cursor', 'bad-field:cursor', undefined],
  ['SNAPSHOT_CHUNK', 'records', 'bad-field:records', 1],
  ['SNAPSHOT_CHUNK', 'start', 'bad-field:start', 'x'],
  ['SNAPSHOT_END', 'digest', 'bad-field:digest', null],
  ['CMD', 'id', 'bad-field:id', ''],
  ['CMD', 'target', 'bad-field:target', 't'.repeat(300)],
  ['CMD', 'action', 'bad-field:action', 3],
  ['CMD', 'args', 'bad-field:args', () => 1],
  ['CMD', 'timeoutMs', 'bad-field:timeoutMs', 0],
  ['CMD_RESULT', 'id', 'bad-field:id', null],
  ['CMD_RESULT', 'ok', 'bad-field:ok', 'x'],
  ['CMD_RESULT', 'result', 'bad-field:result', Number.NaN],
  ['CMD_ERROR', 'error', 'bad-field:error', undefined],
  ['CMD_ERROR', 'error', 'bad-field:error', { code: '', message: 'm' }],
  ['PUBLISH', 'topic', 'bad-field:topic', ''],
  ['PUBLISH', 'payload', 'bad-field:payload', { d: new Date(0) }],
  ['LEAVE', 'record', 'bad-field:record', { ...RECORD_A, nodeId: B }],
];

describe('validateMessage: every bad field has its reason', () => {
  it.each(BAD)('%s.%s → %s', (name, field, reason, value) => {
    expect(validateMessage({ ...ex(name), [field]: value })).toEqual({ ok: false, reason });
  });

  it('bounds digests', () => {
    const huge: Record<string, number> = {};
    for (let i = 0; i <= WIRE_LIMITS.maxDigestEntries; i++) huge[i.toString(16).padStart(32, '0')] = 1;
    expect(validateMessage({ ...ex('SYN'), store: huge })).toEqual({ ok: false, reason: 'too-many-items' });
  });
});

describe('validateMessage: the other reasons', () => {
  it.each([null, undefined, 5, 'x', [], [1, 2], new Uint8Array(3), true])('%o is not-an-object', (x) => {
    expect(validateMessage(x)).toEqual({ ok: false, reason: 'not-an-object' });
  });

  it.each([{}, { t: 0 }, { t: 99 }, { t: '1' }, { t: 1.5 }, { t: 'toString' }, { t: -1 }])('%o is unknown-type', (x) => {
    expect(validateMessage(x)).toEqual({ ok: false, reason: 'unknown-type' });
  });

  it('a value that throws while read is malformed', () => {
    const o = { t: MessageType.PING };
    Object.defineProperty(o, 'from', { enumerable: true, get: () => { throw new Error('boom'); } });
    expect(validateMessage(o)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('undecodable and oversized bytes are reasons, not exceptions', () => {
    expect(decodeMessage(new Uint8Array([0x92]))).toBeInstanceOf(Undecodable);
    expect(validateMessage(decodeMessage(new Uint8Array([0x92])))).toEqual({ ok: false, reason: 'undecodable' });
    const bytes = encodeMessage(ex('ACK') as never);
    expect(validateMessage(decodeMessage(bytes, bytes.length - 1))).toEqual({ ok: false, reason: 'too-large' });
    expect(validateMessage(decodeMessage(bytes, bytes.length))).toEqual({ ok: true, message: ex('ACK') });
  });
});
