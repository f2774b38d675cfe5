import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { presetDefaults, readConfigFile, resolveNodeConfig } from '../../src/node/config.ts';
import { cleanup, tempDir } from './proc.ts';

describe('node configuration', () => {
  it('takes flags over environment over file over preset', () => {
    const file = { port: 7000, mesh: 'file-mesh', name: 'from-file', seeds: ['10.0.0.1:7000'] };
    const env = { CHORUS_PORT: '7100', CHORUS_MESH: 'env-mesh', UNRELATED: 'x' };
    const flags = { '--port': '7200' };
    const c = resolveNodeConfig({ flags, env, file });
    expect(c.port).toBe(7200);
    expect(c.mesh).toBe('env-mesh');
    expect(c.name).toBe('from-file');
    expect(c.seeds).toEqual(['10.0.0.1:7000']);
    expect(c.data).toBe(presetDefaults().data);
    expect(resolveNodeConfig({ env: { CHORUS_SEEDS: 'a:1, b:2' } }).seeds).toEqual(['a:1', 'b:2']);
    expect(resolveNodeConfig({ flags: { '--seed': ['h:1', 'h:2'] } }).seeds).toEqual(['h:1', 'h:2']);
    expect(resolveNodeConfig({ env: { CHORUS_INSECURE: 'true', CHORUS_DISCOVERY: 'off' } })).toMatchObject({ insecure: true, discovery: false });
  });

  it.each([
    [{ flags: { '--port': '70000' } }, /flag --port must be 0 to 65535/],
    [{ flags: { '--port': 'abc' } }, /flag --port must be a whole number/],
    [{ env: { CHORUS_PORT: '1.5' } }, /environment variable CHORUS_PORT must be a whole number/],
    [{ file: { port: 'x' } }, /config file key "port" must be a whole number/],
    [{ flags: { '--seed': ['nohost'] } }, /flag --seed "nohost" is not host:port/],
    [{ env: { CHORUS_PRESET: 'fast' } }, /CHORUS_PRESET must be lan, local or wan/],
    [{ flags: { '--mesh': 'my mesh' } }, /flag --mesh must be 1 to 64/],
    [{ flags: { '--node-id': 'xyz' } }, /flag --node-id must be 32 lowercase hex/],
    [{ env: { CHORUS_INSECURE: 'maybe' } }, /CHORUS_INSECURE must be true or false/],
    [{ file: { discovery: 'sometimes' } }, /config file key "discovery" must be on or off/],
  ])('refuses %j naming what was wrong', (sources, message) => {
    expect(() => resolveNodeConfig(sources as never)).toThrow(message);
  });

  it('reads YAML files and refuses unknown keys and bad YAML', () => {
    const dir = tempDir();
    try {
      const good = join(dir, 'good.yaml');
      writeFileSync(good, 'name: kitchen\nport: 8080\nseeds:\n  - 10.0.0.2:8080\ndiscovery: off\n');
      expect(resolveNodeConfig({ file: readConfigFile(good) })).toMatchObject({ name: 'kitchen', port: 8080, seeds: ['10.0.0.2:8080'], discovery: false });
      const typo = join(dir, 'typo.yaml');
      writeFileSync(typo, 'prot: 8080\n');
      expect(() => readConfigFile(typo)).toThrow(/unknown key "prot"/);
      const broken = join(dir, 'broken.yaml');
      writeFileSync(broken, 'name: [unclosed\n');
      expect(() => readConfigFile(broken)).toThrow(/not valid YAML/);
      expect(() => readConfigFile(join(dir, 'missing.yaml'))).toThrow(/cannot be read/);
    } finally {
      cleanup(dir);
    }
  });
});
