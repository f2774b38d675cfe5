import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameCodec } from '../../src/transport/frame.ts';
import { REPLAY_WINDOW, ReplayWindow, SessionTable } from '../../src/transport/replay.ts';
import { ringOf } from './frames.ts';

const payload = Buffer.from('numbered');
const codecs = (maxSessions?: number) => ({
  sender: new FrameCodec({ mesh: 'home', keyring: ringOf(1) }),
  receiver: new FrameCodec({ mesh: 'home', keyring: ringOf(1), ...(maxSessions === undefined ? {} : { maxSessions }) }),
});

describe('replay protection', () => {
  it('refuses the same frame twice', () => {
    const { sender, receiver } = codecs();
    const f = sender.seal(payload);
    expect(receiver.open(f).ok).toBe(true);
    expect(receiver.open(f)).toEqual({ ok: false, reason: 'replay' });
    expect(receiver.counters().rejected.replay).toBe(1);
  });

  it('accepts out-of-order frames within the window once each', () => {
    const { sender, receiver } = codecs();
    const frames = Array.from({ length: 300 }, () => sender.seal(payload));
    const shuffled = [...frames].reverse();
    expect(shuffled.map((f) => receiver.open(f).ok).every(Boolean)).toBe(true);
    expect(frames.map((f) => receiver.open(f).ok).some(Boolean)).toBe(false);
    expect(receiver.counters().rejected.replay).toBe(300);
  });

  it('refuses a frame older than the window even if never seen', () => {
    const { sender, receiver } = codecs();
    const frames = Array.from({ length: REPLAY_WINDOW + 100 }, () => sender.seal(payload));
    const newest = frames.length - 1;
    expect(receiver.open(frames[newest] as Uint8Array).ok).toBe(true);
    // Counter newest - (W - 1) is the oldest still inside the window; newest - W is outside.
    expect(receiver.open(frames[newest - (REPLAY_WINDOW - 1)] as Uint8Array).ok).toBe(true);
    expect(receiver.open(frames[newest - REPLAY_WINDOW] as Uint8Array)).toEqual({ ok: false, reason: 'replay' });
    expect(receiver.open(frames[0] as Uint8Array)).toEqual({ ok: false, reason: 'replay' });
  });

  it('keeps a window per sender session: two sealers do not collide', () => {
    const { sender, receiver } = codecs();
    const a = sender.sealer();
    const b = sender.sealer();
    for (let i = 0; i < 50; i++) {
      expect(receiver.open(a.seal(payload)).ok).toBe(true);
      expect(receiver.open(b.seal(payload)).ok).toBe(true);
    }
  });

  it('bounds the session table (LRU) and counts evictions', () => {
    const { sender, receiver } = codecs(8);
    for (let i = 0; i < 100; i++) expect(receiver.open(sender.sealer().seal(payload)).ok).toBe(true);
    expect(receiver.counters()).toMatchObject({ sessions: 8, sessionsEvicted: 92 });
  });

  it('does not let frames that fail authentication create sessions', () => {
    const { receiver } = codecs(8);
    const forger = new FrameCodec({ mesh: 'home', keyring: ringOf(1) });
    for (let i = 0; i < 100; i++) {
      const f = Buffer.from(forger.sealer().seal(payload));
      f[f.length - 1] = (f[f.length - 1] as number) ^ 1;
      expect(receiver.open(f)).toEqual({ ok: false, reason: 'auth-failed' });
    }
    expect(receiver.counters()).toMatchObject({ sessions: 0, sessionsEvicted: 0 });
  });

  it('the window agrees with a model (every counter within W of the highest accepted once)', () => {
    const counters = fc.array(fc.bigInt({ min: 0n, max: 5000n }), { minLength: 1, maxLength: 400 });
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 62n) - 10_000n }), counters, (base, offsets) => {
        const [first, ...rest] = offsets.map((o) => base + o);
        const w = new ReplayWindow(first as bigint);
        const seen = new Set<bigint>([first as bigint]);
        let top = first as bigint;
        for (const c of rest) {
          const expected = c > top ? 'fresh' : top - c >= REPLAY_WINDOW ? 'too-old' : seen.has(c) ? 'duplicate' : 'fresh';
          expect(w.check(c)).toBe(expected);
          if (expected === 'fresh') {
            w.commit(c);
            seen.add(c);
            if (c > top) top = c;
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the session table evicts the least recently used session', () => {
    const t = new SessionTable(2);
    t.commit('a', 1n);
    t.commit('b', 1n);
    t.commit('a', 2n); // a is now the most recent
    t.commit('c', 1n); // evicts b
    expect(t.check('a', 2n)).toBe('duplicate');
    expect(t.check('b', 1n)).toBe('fresh'); // forgotten
    expect(t.evicted).toBe(1);
  });
});
