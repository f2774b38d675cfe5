import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isChorusError } from '../../src/core/errors.ts';
import { AddressWatch, isLinkLocalIPv6, type InterfaceTable } from '../../src/node/address-watch.ts';

const v4 = (address: string, internal = false): NetworkInterfaceInfo => ({ address, netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal, cidr: `${address}/24` });
const v6 = (address: string, internal = false): NetworkInterfaceInfo => ({ address, netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal, cidr: `${address}/64`, scopeid: 0 });

/** A watch over a table the test swaps, recording every onChange. */
function harness(first: InterfaceTable, ipv6 = false) {
  let table = first;
  const changes: [string[], string[]][] = [];
  const watch = new AddressWatch({ read: () => table, ipv6, onChange: (next, prev) => changes.push([next, prev]) });
  return { watch, changes, set: (t: InterfaceTable) => (table = t) };
}

describe('AddressWatch', () => {
  it('records a baseline, then reports a change once with the new and the previous list', () => {
    const h = harness({ lo: [v4('127.0.0.1', true)], eth0: [v4('192.168.1.20')] });
    expect(h.watch.current()).toEqual([]);
    expect(h.watch.check()).toBe(false);
    expect(h.watch.current()).toEqual(['192.168.1.20']);
    h.set({ lo: [v4('127.0.0.1', true)], eth0: [v4('192.168.1.42')] });
    expect(h.watch.check()).toBe(true);
    expect(h.watch.check()).toBe(false);
    expect(h.changes).toEqual([[['192.168.1.42'], ['192.168.1.20']]]);
    expect(h.watch.current()).toEqual(['192.168.1.42']);
  });

  it('a reordering, a new interface order or a duplicate is not a change', () => {
    const h = harness({ eth0: [v4('10.0.0.2'), v4('10.0.0.1')], wlan0: [v4('192.168.1.5')] });
    h.watch.check();
    h.set({ wlan0: [v4('192.168.1.5')], eth0: [v4('10.0.0.1'), v4('10.0.0.2')] });
    expect(h.watch.check()).toBe(false);
    h.set({ eth0: [v4('10.0.0.1'), v4('10.0.0.2')], wlan0: [v4('192.168.1.5'), v4('10.0.0.1')] });
    expect(h.watch.check()).toBe(false);
    expect(h.changes).toEqual([]);
    expect(h.watch.current()).toEqual(['10.0.0.1', '10.0.0.2', '192.168.1.5']);
  });

  it('filters internal addresses, IPv6 by default, and link-local IPv6 when IPv6 is on', () => {
    const table = { lo: [v4('127.0.0.1', true), v6('::1', true)], eth0: [v4('192.168.1.20'), v6('fe80::1c2:3ff:fe04:506'), v6('2001:db8::20')], wg0: [v6('FEB0::9')] };
    const off = harness(table);
    off.watch.check();
    expect(off.watch.current()).toEqual(['192.168.1.20']);
    const on = harness(table, true);
    on.watch.check();
    expect(on.watch.current()).toEqual(['192.168.1.20', '2001:db8::20']);
  });

  it('losing every address and getting one back are both changes', () => {
    const h = harness({ eth0: [v4('192.168.1.20')] });
    h.watch.check();
    h.set({ lo: [v4('127.0.0.1', true)] });
    h.watch.check();
    h.set({ eth0: [v4('192.168.1.21')] });
    h.watch.check();
    expect(h.changes).toEqual([
      [[], ['192.168.1.20']],
      [['192.168.1.21'], []],
    ]);
  });

  it('a change only in ignored addresses is not a change; a custom filter decides alone', () => {
    const h = harness({ eth0: [v4('192.168.1.20'), v6('fe80::1')] });
    h.watch.check();
    h.set({ eth0: [v4('192.168.1.20'), v6('fe80::2')], docker0: [v4('127.0.0.2', true)] });
    expect(h.watch.check()).toBe(false);
    const only = new AddressWatch({ read: () => ({ eth0: [v4('192.168.1.20')], docker0: [v4('172.17.0.1')] }), filter: (_info, name) => name !== 'docker0', onChange: () => undefined });
    only.check();
    expect(only.current()).toEqual(['192.168.1.20']);
  });

  it('a failed read throws from check() and changes nothing; the timer reports it to onError', () => {
    let fail = false;
    const errors: unknown[] = [];
    const changes: string[][] = [];
    const watch = new AddressWatch({
      read: () => {
        if (fail) throw new Error('EPERM');
        return { eth0: [v4('10.1.1.1')] };
      },
      onChange: (a) => changes.push(a),
      onError: (e) => errors.push(e),
    });
    watch.start(); // the baseline check runs at once
    expect(watch.current()).toEqual(['10.1.1.1']);
    fail = true;
    expect(() => watch.check()).toThrow('EPERM');
    expect(watch.current()).toEqual(['10.1.1.1']);
    watch.stop();
    watch.start();
    watch.stop();
    expect(errors).toHaveLength(1);
    expect(changes).toEqual([]);
  });

  it('refuses a bad interval', () => {
    let err: unknown;
    try {
      new AddressWatch({ intervalMs: 0, onChange: () => undefined });
    } catch (e) {
      err = e;
    }
    expect(isChorusError(err, ErrorCode.InvalidConfig)).toBe(true);
  });

  it.each([['fe80::1', true], ['FE80::1', true], ['febf::1', true], ['fec0::1', false], ['2001:db8::1', false], ['::1', false]])('isLinkLocalIPv6(%s) is %s', (a, expected) => {
    expect(isLinkLocalIPv6(a)).toBe(expected);
  });
});
