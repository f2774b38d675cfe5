import { describe, expect, it } from 'vitest';
import { ChorusError, ErrorCode } from '../../src/core/errors.ts';
import { MEMBERSHIP_PRESETS, resolveMembershipConfig, type MembershipConfig, type MembershipPreset } from '../../src/membership/index.ts';

function thrown(f: () => unknown): ChorusError {
  try {
    f();
  } catch (e) {
    if (e instanceof ChorusError) return e;
    throw e;
  }
  throw new Error('expected a ChorusError');
}

describe('membership presets', () => {
  it('lan is the default and follows memberlist DefaultLANConfig', () => {
    expect(resolveMembershipConfig()).toEqual(MEMBERSHIP_PRESETS.lan);
    expect(MEMBERSHIP_PRESETS.lan).toMatchObject({ probeIntervalMs: 1000, probeTimeoutMs: 500, indirectChecks: 3, suspicionMult: 4, suspicionMaxTimeoutMult: 6, retransmitMult: 4 });
  });

  it('local has fast timers; wan follows memberlist DefaultWANConfig', () => {
    expect(MEMBERSHIP_PRESETS.local).toMatchObject({ probeIntervalMs: 200, probeTimeoutMs: 100, indirectChecks: 1, suspicionMult: 3, retransmitMult: 2 });
    expect(MEMBERSHIP_PRESETS.wan).toMatchObject({ probeIntervalMs: 5000, probeTimeoutMs: 3000, suspicionMult: 6 });
  });

  it.each(['lan', 'local', 'wan'] as const)('%s passes its own validation', (preset) => {
    expect(resolveMembershipConfig(preset)).toEqual(MEMBERSHIP_PRESETS[preset]);
  });

  it('applies overrides and freezes the result', () => {
    const c = resolveMembershipConfig('local', { reapTimeoutMs: 1000, indirectChecks: 0 });
    expect(c.reapTimeoutMs).toBe(1000);
    expect(c.indirectChecks).toBe(0);
    expect(c.probeIntervalMs).toBe(200);
    expect(Object.isFrozen(c)).toBe(true);
  });
});

describe('resolveMembershipConfig rejects every bad value, naming the key', () => {
  const keys = Object.keys(MEMBERSHIP_PRESETS.lan) as (keyof MembershipConfig)[];
  const badValues: unknown[] = [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10', null, 1e15];
  const cases = keys.flatMap((key) => badValues.map((value) => ({ key, value })));

  it.each(cases)('$key = $value', ({ key, value }) => {
    const e = thrown(() => resolveMembershipConfig('lan', { [key]: value } as Partial<MembershipConfig>));
    expect(e.code).toBe(ErrorCode.InvalidConfig);
    expect(e.message).toContain(key);
  });

  const zeroes: [keyof MembershipConfig, boolean][] = [
    ['probeIntervalMs', false],
    ['probeTimeoutMs', false],
    ['indirectChecks', true],
    ['suspicionMult', false],
    ['suspicionMaxTimeoutMult', false],
    ['retransmitMult', false],
    ['reapTimeoutMs', true],
    ['gossipMaxPerMessage', false],
    ['maxFutureGenerationMs', true],
    ['awarenessMaxMultiplier', false],
  ];
  it.each(zeroes)('%s = 0 accepted: %s', (key, ok) => {
    const f = () => resolveMembershipConfig('lan', { [key]: 0 });
    if (ok) expect(f).not.toThrow();
    else expect(thrown(f).message).toContain(key);
  });

  it('names probeTimeoutMs when it is not below probeIntervalMs', () => {
    const e = thrown(() => resolveMembershipConfig('lan', { probeTimeoutMs: 1000 }));
    expect(e.code).toBe(ErrorCode.InvalidConfig);
    expect(e.message).toContain('probeTimeoutMs');
  });

  it('names an unknown key', () => {
    const e = thrown(() => resolveMembershipConfig('lan', { probeIntervalSeconds: 1 } as Partial<MembershipConfig>));
    expect(e.message).toContain('probeIntervalSeconds');
  });

  it('names an unknown preset', () => {
    const e = thrown(() => resolveMembershipConfig('lan-party' as MembershipPreset));
    expect(e.code).toBe(ErrorCode.InvalidConfig);
    expect(e.message).toContain('preset');
  });
});
