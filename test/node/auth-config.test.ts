import { describe, expect, it } from 'vitest';
import { resolveNodeConfig } from '../../src/node/config.ts';

// The one access-control setting, through every source of the config schema.

describe('apiLoopbackOpen', () => {
  it('defaults to on and is set by file, environment and flag, in that order of strength', () => {
    expect(resolveNodeConfig({}).apiLoopbackOpen).toBe(true);
    expect(resolveNodeConfig({ file: { apiLoopbackOpen: false } }).apiLoopbackOpen).toBe(false);
    expect(resolveNodeConfig({ file: { apiLoopbackOpen: false }, env: { CHORUS_API_LOOPBACK_OPEN: 'on' } }).apiLoopbackOpen).toBe(true);
    expect(resolveNodeConfig({ env: { CHORUS_API_LOOPBACK_OPEN: 'on' }, flags: { '--api-loopback-open': 'off' } }).apiLoopbackOpen).toBe(false);
  });

  it('refuses anything but on/off, naming where the value came from', () => {
    expect(() => resolveNodeConfig({ flags: { '--api-loopback-open': 'maybe' } })).toThrow(/flag --api-loopback-open must be on or off/);
    expect(() => resolveNodeConfig({ env: { CHORUS_API_LOOPBACK_OPEN: 'yes' } })).toThrow(/CHORUS_API_LOOPBACK_OPEN must be on or off/);
    expect(() => resolveNodeConfig({ file: { apiLoopbackOpen: 'off-ish' } })).toThrow(/"apiLoopbackOpen" must be on or off/);
  });
});
