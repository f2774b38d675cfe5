import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { SeededRandom } from '../../src/core/random.ts';
import { Store } from '../../src/store/store.ts';
import { resolveSyncConfig } from '../../src/sync/config.ts';
import { Engine } from '../../src/sync/engine.ts';
import { validateMessage, VALIDATION_REASONS } from '../../src/sync/validate.ts';
import { decodeMessage, encodeMessage } from '../../src/sync/wire.ts';
import { messageArb } from './arbitraries.ts';
import { EXAMPLES } from './examples.ts';
import { nodeIdOf, T0 } from './mesh.ts';

/** fast-check parameters; replay a failure with CHORUS_PROP_SEED=<seed> CHORUS_PROP_PATH=<path>. */
const params = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns,
  ...(process.env.CHORUS_PROP_SEED ? { seed: Number(process.env.CHORUS_PROP_SEED) } : {}),
  ...(process.env.CHORUS_PROP_PATH ? { path: process.env.CHORUS_PROP_PATH } : {}),
});

describe('wire', () => {
  it('encode → decode → validate gives back the same message', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        expect(validateMessage(decodeMessage(encodeMessage(m)))).toEqual({ ok: true, message: m });
      }),
      params(2000) as fc.Parameters<[unknown]>,
    );
  });
});

/** An engine with no peers, to be fed garbage. */
function victim(): Engine {
  const clock = new ManualClock(T0);
  const nodeId = nodeIdOf(0);
  return new Engine({
    nodeId,
    name: 'fuzz',
    mesh: 'test',
    generation: 1,
    bootNonce: 'fuzz',
    address: '10.0.0.1',
    port: 7000,
    seeds: [],
    store: new Store({ nodeId, clock }),
    clock,
    random: new SeededRandom(7),
    config: resolveSyncConfig('local'),
  });
}

const isValidationReason = (r: string): boolean => (VALIDATION_REASONS as readonly string[]).includes(r) || r.startsWith('bad-field:');

/** Inputs counted at the validation gate: each is either received (by type) or dropped (by validation reason). */
function countedAtGate(counters: Record<string, number>): number {
  let n = 0;
  for (const [k, v] of Object.entries(counters)) if (k.startsWith('received:') || (k.startsWith('dropped:') && isValidationReason(k.slice(8)))) n += v;
  return n;
}

const validBytes = fc.oneof(fc.constantFrom(...Object.values(EXAMPLES)), messageArb).map((m) => encodeMessage(m));
const mutatedBytes = fc
  .tuple(validBytes, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat())
  .map(([bytes, flips, cut]) => {
    const b = Uint8Array.from(bytes);
    for (const [at, v] of flips) b[at % b.length] = v;
    return cut % 4 === 0 ? b.subarray(0, cut % (b.length + 1)) : b;
  });

describe('fuzz: garbage never throws and is always counted', () => {
  const cases: readonly [string, fc.Arbitrary<unknown>, number, boolean][] = [
    ['random byte buffers', fc.uint8Array({ maxLength: 256 }), 8000, true],
    ['mutated encodings of valid messages', mutatedBytes, 8000, true],
    ['arbitrary JS values', fc.anything({ maxDepth: 3, withBoxedValues: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true }), 4000, false],
  ];

  it.each(cases)('%s', (_name, arb, runs, isBytes) => {
    const engine = victim();
    let fed = 0;
    fc.assert(
      fc.property(arb, (x) => {
        const raw = isBytes ? decodeMessage(x as Uint8Array, 64 * 1024) : x;
        validateMessage(raw);
        engine.receive('10.9.9.9:7000', raw, fed);
        fed++;
        engine.takeEvents();
      }),
      params(runs) as fc.Parameters<[unknown]>,
    );
    const counters = engine.counters();
    if (process.env.FUZZ_DEBUG) console.log(counters);
    expect(countedAtGate(counters)).toBe(fed);
    expect(counters['dropped:handler-error']).toBeUndefined();
    expect(counters['dropped:malformed']).toBeUndefined();
  });
});
