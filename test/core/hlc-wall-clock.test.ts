import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_STEP_MS, DEFAULT_STEP_ACCEPT_AFTER_MS } from '../../src/core/anchored-clock.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { ErrorCode, isChorusError } from '../../src/core/errors.ts';
import { compareTs, DEFAULT_MAX_DRIFT_MS, HybridClock, type Timestamp } from '../../src/core/hlc.ts';

// A node whose wall clock misbehaves, next to a peer whose clock is right. `trueMs` is real
// time; the node's monotonic clock follows it exactly, its wall clock is trueMs + offset.

const T0 = 1_700_000_000_000;

class World {
  trueMs = T0;
  offsetMs = 0;
  readonly wall = { now: (): number => this.trueMs + this.offsetMs };
  readonly mono = new ManualClock(5_000); // any origin: only differences matter
  readonly node = new HybridClock(this.wall, { monotonic: this.mono });
  readonly peer = new HybridClock({ now: () => this.trueMs });

  advance(ms: number): void {
    this.trueMs += ms;
    this.mono.advance(ms);
  }
}

function refusal(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isChorusError(e)) return e.code;
    throw e;
  }
  return undefined;
}

/** Checks that `next` follows `prev` and lies within `slackMs` of `trueMs`; returns `next`. */
function expectStamp(prev: Timestamp, next: Timestamp, trueMs: number, slackMs = DEFAULT_MAX_STEP_MS): Timestamp {
  expect(compareTs(next, prev)).toBeGreaterThan(0);
  expect(Math.abs(next.ms - trueMs)).toBeLessThanOrEqual(slackMs);
  return next;
}

describe('HybridClock: a wall clock that misbehaves', () => {
  it('a +300 s jump for 4 s leaves our stamps at true time, and peers accept them', () => {
    const w = new World();
    let prev = w.node.now();
    for (let t = 0; t < 10_000; t += 100) {
      w.offsetMs = t >= 2_000 && t < 6_000 ? 300_000 : 0;
      w.advance(100);
      prev = expectStamp(prev, w.node.now(), w.trueMs);
      expect(refusal(() => w.peer.receive(prev))).toBeUndefined();
    }
    // A newer write by the peer beats everything the node wrote during the jump.
    w.advance(1);
    expect(compareTs(w.peer.now(), prev)).toBeGreaterThan(0);
    expect(w.node.stats()).toMatchObject({ stepsIgnored: 1, stepsAccepted: 0 });
  });

  it('90 s behind for 30 s: peers\' stamps are accepted and our own stay at true time', () => {
    const w = new World();
    let prev = w.node.now();
    for (let t = 0; t < 60_000; t += 250) {
      w.offsetMs = t >= 10_000 && t < 40_000 ? -90_000 : 0;
      w.advance(250);
      expect(refusal(() => w.node.receive(w.peer.now()))).toBeUndefined();
      prev = expectStamp(prev, w.node.now(), w.trueMs);
      expect(w.node.tooFarAhead(w.peer.now())).toBe(false);
    }
    expect(w.node.stats()).toMatchObject({ stepsIgnored: 1, stepsAccepted: 0 });
  });

  it('a wall clock running 1% fast is followed smoothly', () => {
    const w = new World();
    let prev = w.node.now();
    for (let i = 1; i <= 6_000; i++) {
      w.offsetMs = Math.floor(i * 100 * 0.01); // 1 ms per 100 ms
      w.advance(100);
      prev = expectStamp(prev, w.node.now(), w.wall.now(), 0);
    }
    expect(w.node.stats()).toMatchObject({ stepsIgnored: 0, stepsAccepted: 0, reanchors: 6_000, offsetMs: 0 });
  });

  it('a step that persists for stepAcceptAfterMs is accepted', () => {
    const w = new World();
    let prev = w.node.now();
    w.offsetMs = 300_000; // the clock was wrong and is now set right (say)
    const seen = w.mono.now() + 1_000; // the first reading after the step
    while (w.mono.now() + 1_000 < seen + DEFAULT_STEP_ACCEPT_AFTER_MS) {
      w.advance(1_000);
      prev = expectStamp(prev, w.node.now(), w.trueMs);
      expect(w.node.stats().offsetMs).toBe(300_000);
    }
    w.advance(1_000);
    prev = expectStamp(prev, w.node.now(), w.wall.now(), 0);
    expect(w.node.stats()).toMatchObject({ stepsIgnored: 1, stepsAccepted: 1, offsetMs: 0 });
    w.advance(1_000);
    expectStamp(prev, w.node.now(), w.wall.now(), 0);
  });

  it('a step that keeps changing size is not accepted until it settles', () => {
    const w = new World();
    w.node.now();
    for (let t = 0; t < 2 * DEFAULT_STEP_ACCEPT_AFTER_MS; t += 60_000) {
      w.offsetMs = (t / 60_000) % 2 === 0 ? 300_000 : 600_000;
      w.advance(60_000);
      expect(Math.abs(w.node.now().ms - w.trueMs)).toBeLessThanOrEqual(DEFAULT_MAX_STEP_MS);
    }
    expect(w.node.stats().stepsAccepted).toBe(0);
  });

  it('after sleep (monotonic clock stood still) a peer stamp that agrees with the wall clock is accepted', () => {
    const w = new World();
    w.node.now();
    w.trueMs += 3_600_000; // an hour asleep: real and wall time moved on, the monotonic clock did not
    const fresh = w.peer.now();
    expect(refusal(() => w.node.receive(fresh))).toBeUndefined();
    expect(w.node.stats()).toMatchObject({ stepsIgnored: 1, stepsAccepted: 1 });
    w.advance(10);
    expect(w.node.now().ms).toBe(w.trueMs);
  });

  it('a clock never set (1970 at boot) is followed at once when it is set', () => {
    const mono = new ManualClock(0);
    const wall = new ManualClock(30_000); // 30 s after the epoch: booted without a real-time clock
    const hlc = new HybridClock(wall, { monotonic: mono });
    let prev = hlc.now();
    mono.advance(1_000);
    wall.set(T0); // NTP sets it
    prev = expectStamp(prev, hlc.now(), T0, 0);
    expect(hlc.stats()).toMatchObject({ stepsIgnored: 1, stepsAccepted: 1 });
    mono.advance(1_000);
    wall.advance(1_000);
    expectStamp(prev, hlc.now(), T0 + 1_000, 0);
  });

  it('a peer stamp far ahead of both our clocks is still refused', () => {
    const w = new World();
    w.node.now();
    w.offsetMs = 300_000;
    w.advance(100);
    expect(refusal(() => w.node.receive({ ms: w.trueMs + 2 * DEFAULT_MAX_DRIFT_MS + 300_000, lc: 0 }))).toBe(ErrorCode.ClockDrift);
    expect(w.node.stats().stepsAccepted).toBe(0);
    expect(Math.abs(w.node.now().ms - w.trueMs)).toBeLessThanOrEqual(DEFAULT_MAX_STEP_MS);
  });

  it('stamps strictly increase through jumps, drift, sleep and remote stamps', () => {
    const w = new World();
    let prev = w.node.now();
    let x = 4242;
    for (let i = 0; i < 20_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const r = x % 1000;
      if (r < 5) w.offsetMs += ((x >> 10) % 400_000) - 200_000; // a step either way
      else if (r < 10) w.offsetMs = 0; // corrected
      else if (r < 12) w.trueMs += 100_000; // a short sleep
      else w.offsetMs += (x >> 12) % 3 === 0 ? 1 : 0; // slow drift
      w.advance(x % 300);
      const remote = { ms: w.trueMs + ((x >> 8) % 2_000) - 1_000, lc: x % 7 };
      // A refusal (after a wrong step was accepted) changes nothing; the property is monotonicity.
      if (r % 4 === 0 && w.node.tooFarAhead(remote)) continue;
      const next = r % 4 === 0 ? w.node.receive(remote) : w.node.now();
      expect(compareTs(next, prev)).toBeGreaterThan(0);
      prev = next;
    }
  });

  it('rejects a non-positive step bound', () => {
    expect(() => new HybridClock(new ManualClock(0), { maxStepMs: 0 })).toThrow(/maxStepMs/);
    expect(() => new HybridClock(new ManualClock(0), { stepAcceptAfterMs: Number.NaN })).toThrow(/stepAcceptAfterMs/);
  });
});
