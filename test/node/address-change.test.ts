import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from './cli.ts';
import { ip, Lan, netnsSkipReason, nsGetObject, nsHttp, nsMembers, startNsNode, type Host, type Member } from './netns.ts';
import { cleanup, eventually, killNode, tempDir, type NodeProc } from './proc.ts';

// Two real `chorus start` processes in network namespaces on one bridge. B's address changes
// under it (a new address is added to its interface and the old one removed, as a DHCP renewal
// with a new lease would); A must learn the new address of the same node, and writes must flow.
//
//   chorus-node-<pid>-br: bridge br0 ── veth ── …-a  10.78.K.1/24   node A (seedless)
//                                     └ veth ── …-b  10.78.K.2/24 → 10.78.K.20/24   node B (seed A)

const reason = netnsSkipReason();
const K = randomInt(1, 255);
const OLD_B = `10.78.${K}.2`;
const NEW_B = `10.78.${K}.20`;
/** How often the nodes look at their interfaces (CHORUS_ADDRESS_WATCH_MS; the default is 5000). */
const WATCH_MS = 250;
/** The change must be visible on A within this long. */
const BUDGET_MS = 15_000;

if (reason !== undefined) {
  console.log(`address-change tests skipped: ${reason}`);
  describe('a node whose address changes', () => {
    it.skip(`skipped: ${reason}`, () => undefined);
  });
} else {
  describe('a node whose address changes', () => {
    const lan = new Lan(`chorus-node-${process.pid}`);
    const dirs = { a: tempDir(), b: tempDir(), keys: tempDir() };
    const procs: NodeProc[] = [];
    let hostA: Host;
    let hostB: Host;

    beforeAll(() => {
      [hostA, hostB] = lan.create([
        { name: 'a', ip: `10.78.${K}.1` },
        { name: 'b', ip: OLD_B },
      ]) as [Host, Host];
      // Without this, removing an interface's primary address also removes its secondaries.
      ip('netns', 'exec', hostB.ns, 'sysctl', '-q', '-w', 'net.ipv4.conf.eth0.promote_secondaries=1');
    });

    afterAll(async () => {
      await Promise.all(procs.map((n) => killNode(n)));
      lan.destroy();
      cleanup(...Object.values(dirs));
    });

    it('A sees B at its new address with the same node id and a higher incarnation, and B’s writes still reach A', async () => {
      const keyFile = join(dirs.keys, 'keyring.json');
      generateKey('--key-file', keyFile);
      const common = ['--host', '0.0.0.0', '--key-file', keyFile, '--discovery', 'off'];
      const env = { CHORUS_ADDRESS_WATCH_MS: String(WATCH_MS) };
      const a = await startNsNode(hostA.ns, dirs.a, ['--name', 'a', ...common], env);
      procs.push(a);
      const b = await startNsNode(hostB.ns, dirs.b, ['--name', 'b', ...common, '--seed', `${hostA.ip}:${a.port}`], env);
      procs.push(b);

      const bOnA = async (): Promise<Member | undefined> => (await nsMembers(hostA.ns, a)).find((m) => m.nodeId === b.nodeId);
      const before = await eventually('A and B see each other alive', async () => {
        const onA = await bOnA();
        const aOnB = (await nsMembers(hostB.ns, b)).find((m) => m.nodeId === a.nodeId);
        return onA?.status === 'alive' && aOnB?.status === 'alive' ? onA : undefined;
      });
      // A wildcard bind advertises the interface's address, not 0.0.0.0 or loopback.
      expect(before.addresses).toEqual([OLD_B]);
      expect((await nsHttp(hostB.ns, `${b.url}/api/v1/node`)).body.addresses).toEqual([OLD_B]);
      expect((await nsHttp(hostB.ns, `${b.url}/api/v1/objects/before-change`, 'PUT', { fields: { n: 1 } })).status).toBe(200);
      await eventually('before-change on A', async () => ((await nsGetObject(hostA.ns, a, 'before-change'))?.n === 1 ? true : undefined));

      const changedAt = performance.now();
      ip('-n', hostB.ns, 'addr', 'add', `${NEW_B}/24`, 'dev', 'eth0');
      ip('-n', hostB.ns, 'addr', 'del', `${OLD_B}/24`, 'dev', 'eth0');

      const after = await eventually(
        'A to see B at its new address',
        async () => {
          const m = await bOnA();
          return m?.addresses[0] === NEW_B && m.status === 'alive' ? m : undefined;
        },
        BUDGET_MS,
      );
      console.log(`A saw B's new address ${Math.round(performance.now() - changedAt)} ms after the change (incarnation ${before.incarnation} → ${after.incarnation})`);
      expect(after.nodeId).toBe(b.nodeId);
      expect(after.generation).toBe(before.generation);
      expect(after.incarnation).toBeGreaterThan(before.incarnation);
      expect(after.addresses).toEqual([NEW_B]);
      expect((await nsHttp(hostB.ns, `${b.url}/api/v1/node`)).body.addresses).toEqual([NEW_B]);

      expect((await nsHttp(hostB.ns, `${b.url}/api/v1/objects/after-change`, 'PUT', { fields: { n: 2 } })).status).toBe(200);
      await eventually('after-change on A', async () => ((await nsGetObject(hostA.ns, a, 'after-change'))?.n === 2 ? true : undefined), BUDGET_MS);
      // And the other way: A's writes reach B at its new address.
      expect((await nsHttp(hostA.ns, `${a.url}/api/v1/objects/from-a`, 'PUT', { fields: { n: 3 } })).status).toBe(200);
      await eventually('from-a on B', async () => ((await nsGetObject(hostB.ns, b, 'from-a'))?.n === 3 ? true : undefined), BUDGET_MS);
      // B is one member on A, not two (old and new address) and not a stranger.
      const onA = await nsMembers(hostA.ns, a);
      expect(onA.map((m) => m.nodeId).sort()).toEqual([a.nodeId, b.nodeId].sort());
    });
  });
}
