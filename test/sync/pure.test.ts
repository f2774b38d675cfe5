import { describe, expect, it } from 'vitest';
import { isChorusError } from '../../src/core/errors.ts';
import type { NodeId } from '../../src/core/ids.ts';
import { SeededRandom } from '../../src/core/random.ts';
import { digestSum, memberFingerprint } from '../../src/sync/anti-entropy.ts';
import { resolveSyncConfig, scaledSyncIntervalMs, SYNC_PRESETS, validateSyncConfig } from '../../src/sync/config.ts';
import { negotiateVersion, seedBackoffMs } from '../../src/sync/handshake.ts';
import { MESSAGE_TYPE_NAMES, MessageType } from '../../src/sync/messages.ts';
import { PeerSet } from '../../src/sync/peers.ts';
import { splitBatches } from '../../src/sync/push.ts';
import { coversFrom, minDigest } from '../../src/sync/snapshot.ts';

const id = (c: string): NodeId => c.repeat(32) as NodeId;

describe('message type codes', () => {
  it('are the released, append-only numbers', () => {
    expect(MessageType).toEqual({
      HELLO: 1, WELCOME: 2, SYN: 3, ACK: 4, ACK2: 5, PUSH: 6, PING: 7, PING_REQ: 8, PING_ACK: 9,
      SNAPSHOT_REQ: 10, SNAPSHOT_CHUNK: 11, SNAPSHOT_END: 12, CMD: 13, CMD_RESULT: 14, PUBLISH: 15, LEAVE: 16, STORED: 17,
    });
    expect(MESSAGE_TYPE_NAMES[MessageType.SNAPSHOT_END]).toBe('SNAPSHOT_END');
  });
});

describe('SyncConfig', () => {
  it.each(Object.keys(SYNC_PRESETS))('preset %s is valid', (name) => {
    expect(() => validateSyncConfig(SYNC_PRESETS[name as 'lan'] as unknown as Record<string, unknown>)).not.toThrow();
  });

  it.each([
    ['syncIntervalMs', 0],
    ['pushFanout', 1.5],
    ['maxBatchBytes', 'big'],
    ['eagerPush', 'yes'],
    ['gossipPerMessage', -1],
    ['seedRetryMaxMs', 1],
    ['maxMessageBytes', 4096],
    ['membershipPreset', 'moon'],
    ['bogus', 1],
  ])('rejects %s = %o, naming the key', (key, value) => {
    let error: unknown;
    try {
      resolveSyncConfig('local', { [key]: value } as never);
    } catch (e) {
      error = e;
    }
    expect(isChorusError(error, 'CHORUS_INVALID_CONFIG')).toBe(true);
    expect((error as Error).message).toContain(key);
  });

  it('rejects a bad membership override, naming it', () => {
    expect(() => resolveSyncConfig('lan', { membership: { probeTimeoutMs: 5000 } })).toThrow(/probeTimeoutMs/);
  });

  it.each([
    [1, 1000],
    [32, 1000],
    [33, 2000],
    [64, 2000],
    [65, 3000],
    [1000, 6000],
    [10_000, 10_000],
  ])('scales the sync interval for %i members to %i ms', (n, ms) => {
    expect(scaledSyncIntervalMs(1000, n)).toBe(ms);
  });
});

describe('handshake math', () => {
  it.each([
    [[1, 1], [1, 1], 1],
    [[1, 3], [2, 5], 3],
    [[2, 5], [1, 3], 3],
    [[1, 1], [2, 3], undefined],
    [[4, 6], [1, 3], undefined],
  ] as const)('ours %o, theirs %o → %o', (ours, theirs, v) => {
    expect(negotiateVersion(ours, theirs)).toBe(v);
  });

  it('seed backoff doubles up to the cap', () => {
    expect([0, 1, 2, 3, 10, 100].map((f) => seedBackoffMs(200, 2000, f))).toEqual([200, 400, 800, 1600, 2000, 2000]);
  });
});

describe('PeerSet', () => {
  it('adds, removes and samples without repeats or the excluded peer', () => {
    const peers = new PeerSet();
    const ids = Array.from({ length: 200 }, (_, i) => i.toString(16).padStart(32, '0') as NodeId);
    for (const x of ids) peers.add(x);
    expect(peers.add(ids[0] as NodeId)).toBe(false);
    for (const x of ids.slice(0, 50)) peers.delete(x);
    expect(peers.size).toBe(150);
    expect(peers.has(ids[10] as NodeId)).toBe(false);
    const random = new SeededRandom(3);
    for (let k of [1, 3, 10, 80, 149, 150, 500]) {
      const s = peers.sample(random, k, ids[60]);
      k = Math.min(k, 149);
      expect(s).toHaveLength(k);
      expect(new Set(s).size).toBe(k);
      expect(s).not.toContain(ids[60]);
      for (const x of s) expect(peers.has(x)).toBe(true);
    }
    expect(new PeerSet().pick(random)).toBeUndefined();
  });
});

describe('batches and digests', () => {
  it('splits by record count and bytes; a lone oversize item goes alone', () => {
    const sizes = [10, 10, 10, 100, 10, 10];
    const batches = splitBatches(sizes, (s) => s, 2, 30);
    expect(batches).toEqual([[10, 10], [10], [100], [10, 10]]);
  });

  it('minDigest keeps origins both hold, at the lower watermark', () => {
    expect(minDigest({ [id('a')]: 5, [id('b')]: 2 }, { [id('a')]: 3, [id('c')]: 9 })).toEqual({ [id('a')]: 3 });
    expect(coversFrom({ [id('a')]: 3 })).toEqual([{ origin: id('a'), from: 0, to: 3 }]);
  });

  it('fingerprints move when a digest grows', () => {
    expect(digestSum({ [id('a')]: 3, [id('b')]: 4 })).toBe(7);
    const before = memberFingerprint({ [id('a')]: [1, 0, 0] });
    expect(memberFingerprint({ [id('a')]: [1, 1, 0] })).not.toBe(before);
    expect(memberFingerprint({ [id('a')]: [1, 0, 0], [id('b')]: [0, 0, 0] })).not.toBe(before);
  });
});
