import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FrameCodec, REJECT_REASONS, type OpenResult, type RejectReason } from '../../src/transport/frame.ts';
import { afterLabel, rawFrame, ringOf, u32 } from './frames.ts';

// Throws more than 100,000 arbitrary and mutated frames at open() on a keyed and an insecure
// receiver. Replay a failure with CHORUS_PROP_SEED=<seed> CHORUS_PROP_PATH=<path>.

const params = (numRuns: number): fc.Parameters<[Uint8Array]> => ({
  numRuns,
  ...(process.env.CHORUS_PROP_SEED ? { seed: Number(process.env.CHORUS_PROP_SEED) } : {}),
  ...(process.env.CHORUS_PROP_PATH ? { path: process.env.CHORUS_PROP_PATH } : {}),
});

const MAX_FRAME = 4096;
const MAX_SESSIONS = 64;
const LABELS = ['home', 'away', '', 'x'.repeat(64), 'h', 'hom', 'homes'];

// Senders whose frames seed the mutations: right mesh and key, other mesh, unknown key, insecure.
const ring = ringOf(1, 2);
const senders = [
  new FrameCodec({ mesh: 'home', keyring: ringOf(1), maxFrameBytes: MAX_FRAME }),
  new FrameCodec({ mesh: 'home', keyring: ringOf(2), maxFrameBytes: MAX_FRAME }),
  new FrameCodec({ mesh: 'away', keyring: ringOf(1), maxFrameBytes: MAX_FRAME }),
  new FrameCodec({ mesh: 'home', keyring: ringOf(3), maxFrameBytes: MAX_FRAME }),
  new FrameCodec({ mesh: 'home', keyring: null, maxFrameBytes: MAX_FRAME }),
];
const keyIds = [...ring.list().map((k) => Buffer.from(k.id, 'hex')), Buffer.from('00000000', 'hex'), Buffer.from('ffffffff', 'hex')];
const HUGE_LENGTHS = [0xffffffff, 0x80000000, MAX_FRAME + 1, 4 * 1024 * 1024 * 1024 - 2];

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; to: number }
  | { kind: 'extend'; extra: Uint8Array }
  | { kind: 'label-length'; value: number }
  | { kind: 'swap-label'; label: string }
  | { kind: 'swap-key-id'; index: number }
  | { kind: 'declare-length'; value: number }
  | { kind: 'header-byte'; at: 2 | 3; value: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), to: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  fc.record({ kind: fc.constant('label-length' as const), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('swap-label' as const), label: fc.constantFrom(...LABELS) }),
  fc.record({ kind: fc.constant('swap-key-id' as const), index: fc.nat({ max: keyIds.length - 1 }) }),
  fc.record({ kind: fc.constant('declare-length' as const), value: fc.oneof(fc.constantFrom(...HUGE_LENGTHS), fc.nat({ max: 400 }), fc.nat()) }),
  fc.record({ kind: fc.constant('header-byte' as const), at: fc.constantFrom(2 as const, 3 as const), value: fc.integer({ min: 0, max: 255 }) }),
);

/** The label a (possibly mutated) frame claims, for edits that must find what follows it. */
const labelEnd = (b: Uint8Array): number => 5 + (b[4] ?? 0);

function mutate(frame: Uint8Array, m: Mutation): Uint8Array {
  const b = Uint8Array.from(frame);
  if (b.length === 0) return b;
  switch (m.kind) {
    case 'flip':
      b[m.at % b.length] = (b[m.at % b.length] as number) ^ (1 << m.bit);
      return b;
    case 'set':
      b[m.at % b.length] = m.value;
      return b;
    case 'truncate':
      return b.subarray(0, m.to % (b.length + 1));
    case 'extend':
      return Uint8Array.from([...b, ...m.extra]);
    case 'label-length':
      if (b.length > 4) b[4] = m.value;
      return b;
    case 'swap-label': {
      const label = Buffer.from(m.label, 'utf8');
      return Uint8Array.from([...b.subarray(0, 4), label.length, ...label, ...b.subarray(Math.min(labelEnd(b), b.length))]);
    }
    case 'swap-key-id':
      b.set((keyIds[m.index] as Buffer).subarray(0, Math.max(0, b.length - labelEnd(b))), Math.min(labelEnd(b), b.length));
      return b;
    case 'declare-length':
      b.set(u32(m.value).slice(0, Math.max(0, b.length - labelEnd(b))), Math.min(labelEnd(b), b.length));
      return b;
    case 'header-byte':
      if (b.length > m.at) b[m.at] = m.value;
      return b;
  }
}

const sealedArb = fc.tuple(fc.nat({ max: senders.length - 1 }), fc.uint8Array({ maxLength: 300 })).map(([i, p]) => (senders[i] as FrameCodec).seal(p));
const mutatedArb = fc.tuple(sealedArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 })).map(([f, ms]) => ms.reduce(mutate, f));
const prefixedArb = fc
  .tuple(fc.constantFrom(...LABELS), fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 120 }))
  .map(([label, flags, rest]) => rawFrame({ label, flags, rest }));
/** Frames that declare more than exists, up to 4 GiB, with no bytes behind the claim. */
const hugeArb = fc.tuple(fc.constantFrom(...HUGE_LENGTHS), fc.uint8Array({ maxLength: 16 })).map(([n, tail]) => rawFrame({ rest: Uint8Array.from([...u32(n), ...tail]) }));

// Buffers the test code allocates are not open()'s: only count while open() runs.
let inOpen = false;
let largestAllocation = 0;
const watchAllocations = () => {
  for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const) {
    const original = Buffer[name].bind(Buffer) as (size: number, ...rest: unknown[]) => Buffer;
    vi.spyOn(Buffer, name).mockImplementation(((size: number, ...rest: unknown[]) => {
      if (inOpen) largestAllocation = Math.max(largestAllocation, size);
      return original(size, ...rest);
    }) as never);
  }
};
afterEach(() => vi.restoreAllMocks());

describe('fuzz: open() never throws, allocates nothing a declared length asks for, counts every refusal', () => {
  it('100,000+ arbitrary and mutated frames', () => {
    watchAllocations();
    const receivers = [new FrameCodec({ mesh: 'home', keyring: ringOf(1, 2), maxFrameBytes: MAX_FRAME, maxSessions: MAX_SESSIONS }), new FrameCodec({ mesh: 'home', keyring: null, maxFrameBytes: MAX_FRAME, maxSessions: MAX_SESSIONS })];
    const refused = new Map<RejectReason, number>();
    let inputs = 0;
    let rejections = 0;
    let accepted = 0;
    let largestInput = 0;
    const feed = (frame: Uint8Array): void => {
      inputs++;
      largestInput = Math.max(largestInput, frame.length);
      for (const r of receivers) {
        let result: OpenResult;
        inOpen = true;
        try {
          result = r.open(frame);
        } finally {
          inOpen = false;
        }
        if (result.ok) {
          accepted++;
          expect(result.payload.length).toBeLessThanOrEqual(frame.length);
        } else {
          rejections++;
          expect(REJECT_REASONS).toContain(result.reason);
          refused.set(result.reason, (refused.get(result.reason) ?? 0) + 1);
        }
      }
    };
    const cases: readonly [fc.Arbitrary<Uint8Array>, number][] = [
      [fc.uint8Array({ maxLength: 300 }), 25_000],
      [mutatedArb, 55_000],
      [prefixedArb, 12_000],
      [hugeArb, 8_000],
    ];
    for (const [arb, runs] of cases) {
      fc.assert(
        fc.property(arb, (frame) => {
          feed(frame);
        }),
        params(runs),
      );
    }
    expect(inputs).toBeGreaterThanOrEqual(100_000);
    // Every refusal counted under one known reason, and the counts add up.
    const counted = receivers.map((r) => r.counters());
    for (const reason of REJECT_REASONS) expect(counted.reduce((n, c) => n + c.rejected[reason], 0)).toBe(refused.get(reason) ?? 0);
    expect(counted.reduce((n, c) => n + Object.values(c.rejected).reduce((a, b) => a + b, 0), 0)).toBe(rejections);
    expect(counted.reduce((n, c) => n + c.opened, 0)).toBe(accepted);
    // Memory stays bounded: no buffer larger than the input, and the session table within its limit.
    expect(largestAllocation).toBeLessThanOrEqual(largestInput);
    for (const c of counted) expect(c.sessions).toBeLessThanOrEqual(MAX_SESSIONS);
    console.log(`frame fuzz: ${inputs} inputs, ${inputs * receivers.length} opens, ${accepted} accepted, ${rejections} refused: ${JSON.stringify(Object.fromEntries([...refused].sort(([, a], [, b]) => b - a)))}`);
  });

  it('a frame declaring 4 GiB is refused as too-large before anything is allocated', () => {
    watchAllocations();
    const c = new FrameCodec({ mesh: 'home', keyring: null });
    const before = process.memoryUsage().arrayBuffers;
    inOpen = true;
    largestAllocation = 0;
    const r = c.open(rawFrame({ rest: Uint8Array.from([...u32(0xffffffff), 1, 2, 3, 4]) }));
    inOpen = false;
    expect(r).toEqual({ ok: false, reason: 'too-large' });
    expect(largestAllocation).toBe(0);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
    // The watch does see allocations: sealing 1000 bytes allocates the frame.
    inOpen = true;
    c.seal(new Uint8Array(1000));
    inOpen = false;
    expect(largestAllocation).toBe(afterLabel('home') + 4 + 1000);
  });
});
