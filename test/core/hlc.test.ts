import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { ErrorCode, isChorusError } from '../../src/core/errors.ts';
import { compareTs, HybridClock, isTimestamp, MAX_LOGICAL, type Timestamp } from '../../src/core/hlc.ts';

type Step = ['wall', number] | ['now', Timestamp] | ['recv', Timestamp, Timestamp | 'drift'];

const cases: { name: string; start: number; maxDriftMs?: number; steps: Step[] }[] = [
  { name: 'physical time advances: logical resets', start: 1000, steps: [['now', { ms: 1000, lc: 0 }], ['wall', 1005], ['now', { ms: 1005, lc: 0 }]] },
  { name: 'same millisecond: logical counts up', start: 1000, steps: [['now', { ms: 1000, lc: 0 }], ['now', { ms: 1000, lc: 1 }], ['now', { ms: 1000, lc: 2 }]] },
  { name: 'wall clock steps backwards: still monotonic', start: 1000, steps: [['now', { ms: 1000, lc: 0 }], ['wall', 400], ['now', { ms: 1000, lc: 1 }], ['wall', 999], ['now', { ms: 1000, lc: 2 }], ['wall', 1001], ['now', { ms: 1001, lc: 0 }]] },
  { name: 'receive from the past: local time wins', start: 1000, steps: [['recv', { ms: 500, lc: 7 }, { ms: 1000, lc: 0 }]] },
  { name: 'receive ahead within drift: adopts remote ms, lc+1', start: 1000, steps: [['recv', { ms: 5000, lc: 3 }, { ms: 5000, lc: 4 }], ['now', { ms: 5000, lc: 5 }]] },
  { name: 'receive equal ms to last: max lc + 1', start: 1000, steps: [['now', { ms: 1000, lc: 0 }], ['now', { ms: 1000, lc: 1 }], ['recv', { ms: 1000, lc: 9 }, { ms: 1000, lc: 10 }]] },
  { name: 'receive equal ms, ours higher lc', start: 1000, steps: [['now', { ms: 1000, lc: 0 }], ['now', { ms: 1000, lc: 1 }], ['now', { ms: 1000, lc: 2 }], ['recv', { ms: 1000, lc: 0 }, { ms: 1000, lc: 3 }]] },
  { name: 'receive exactly at the drift limit is accepted', start: 1000, steps: [['recv', { ms: 61_000, lc: 0 }, { ms: 61_000, lc: 1 }]] },
  { name: 'receive 1 ms past the drift limit is refused, state unchanged', start: 1000, steps: [['now', { ms: 1000, lc: 0 }], ['recv', { ms: 61_001, lc: 0 }, 'drift'], ['now', { ms: 1000, lc: 1 }]] },
  { name: 'custom drift bound', start: 1000, maxDriftMs: 10, steps: [['recv', { ms: 1010, lc: 0 }, { ms: 1010, lc: 1 }], ['recv', { ms: 1011, lc: 0 }, 'drift']] },
  { name: 'wall catches up after receiving ahead', start: 1000, steps: [['recv', { ms: 2000, lc: 0 }, { ms: 2000, lc: 1 }], ['wall', 1500], ['now', { ms: 2000, lc: 2 }], ['wall', 2001], ['now', { ms: 2001, lc: 0 }]] },
];

describe('HybridClock', () => {
  it.each(cases)('$name', ({ start, maxDriftMs, steps }) => {
    const wall = new ManualClock(start);
    const hlc = new HybridClock(wall, { maxDriftMs });
    for (const step of steps) {
      if (step[0] === 'wall') wall.set(step[1]);
      else if (step[0] === 'now') expect(hlc.now()).toEqual(step[1]);
      else if (step[2] === 'drift') {
        let err: unknown;
        try {
          hlc.receive(step[1]);
        } catch (e) {
          err = e;
        }
        expect(isChorusError(err, ErrorCode.ClockDrift)).toBe(true);
      } else expect(hlc.receive(step[1])).toEqual(step[2]);
    }
  });

  it('stays strictly increasing over a random walk of the wall clock', () => {
    const wall = new ManualClock(1_700_000_000_000); // far from 0: receive refuses negative stamps
    const hlc = new HybridClock(wall);
    let prev = hlc.now();
    let x = 12345;
    for (let i = 0; i < 10_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      wall.advance((x % 200) - 100);
      const next = i % 3 === 0 ? hlc.receive({ ms: wall.now() + (x % 50), lc: x % 5 }) : hlc.now();
      expect(compareTs(next, prev)).toBeGreaterThan(0);
      prev = next;
    }
  });

  it('rejects a negative drift bound', () => {
    expect(() => new HybridClock(new ManualClock(0), { maxDriftMs: -1 })).toThrow(/maxDriftMs/);
  });
});

describe('HybridClock: the logical counter is bounded', () => {
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (e) {
      if (isChorusError(e)) return e.code;
      throw e;
    }
    return undefined;
  };

  it('a remote stamp with lc above MAX_LOGICAL is refused and changes nothing', () => {
    const hlc = new HybridClock(new ManualClock(1000));
    const before = hlc.now();
    expect(code(() => hlc.receive({ ms: 1000, lc: Number.MAX_SAFE_INTEGER }))).toBe(ErrorCode.MalformedRecord);
    expect(code(() => hlc.receive({ ms: 1000, lc: MAX_LOGICAL + 1 }))).toBe(ErrorCode.MalformedRecord);
    expect(code(() => hlc.observeOwn({ ms: 1000, lc: MAX_LOGICAL + 1 }))).toBe(ErrorCode.MalformedRecord);
    expect(hlc.peek()).toEqual(before);
    expect(hlc.now()).toEqual({ ms: 1000, lc: 1 });
  });

  it('isTimestamp accepts lc up to MAX_LOGICAL only', () => {
    expect(isTimestamp({ ms: 1, lc: MAX_LOGICAL })).toBe(true);
    expect(isTimestamp({ ms: 1, lc: MAX_LOGICAL + 1 })).toBe(false);
    expect(isTimestamp({ ms: 1, lc: Number.MAX_SAFE_INTEGER })).toBe(false);
  });

  it('100,000 stamps in one millisecond stay valid and strictly increasing', () => {
    const hlc = new HybridClock(new ManualClock(1000));
    let prev = hlc.now();
    for (let i = 0; i < 100_000; i++) {
      const next = hlc.now();
      expect(isTimestamp(next) && compareTs(next, prev) > 0).toBe(true);
      prev = next;
    }
    expect(prev).toEqual({ ms: 1001, lc: 100_000 - MAX_LOGICAL - 1 });
  });

  it('receiving a stamp at MAX_LOGICAL moves on to the next millisecond', () => {
    const hlc = new HybridClock(new ManualClock(1000));
    hlc.now();
    expect(hlc.receive({ ms: 1000, lc: MAX_LOGICAL })).toEqual({ ms: 1001, lc: 0 });
    expect(hlc.receive({ ms: 1001, lc: MAX_LOGICAL })).toEqual({ ms: 1002, lc: 0 });
    expect(hlc.now()).toEqual({ ms: 1002, lc: 1 });
  });
});
