import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from './cli.ts';
import { Lan, netnsSkipReason, nsGetObject, nsHttp, nsMembers, startNsNode, type Host } from './netns.ts';
import { cleanup, eventually, killNode, tempDir, type NodeProc } from './proc.ts';

// Two real `chorus start` processes in network namespaces on one bridge, sharing a key, with
// no seeds: they find each other only by UDP discovery beacons (broadcast and multicast on the
// default port 7947), then mesh over WebSocket and replicate.
//
//   chorus-disc-<pid>-br: bridge br0 ── veth ── …-a  10.79.K.1/24   node A
//                                     └ veth ── …-b  10.79.K.2/24   node B

const reason = netnsSkipReason();
const K = randomInt(1, 255);

if (reason !== undefined) {
  console.log(`discovery tests skipped: ${reason}`);
  describe('seedless nodes on one LAN', () => {
    it.skip(`skipped: ${reason}`, () => undefined);
  });
} else {
  describe('seedless nodes on one LAN', () => {
    const lan = new Lan(`chorus-disc-${process.pid}`);
    const dirs = { a: tempDir(), b: tempDir(), keys: tempDir() };
    const procs: NodeProc[] = [];
    let hostA: Host;
    let hostB: Host;

    beforeAll(() => {
      [hostA, hostB] = lan.create([
        { name: 'a', ip: `10.79.${K}.1` },
        { name: 'b', ip: `10.79.${K}.2` },
      ]) as [Host, Host];
    });

    afterAll(async () => {
      await Promise.all(procs.map((n) => killNode(n)));
      lan.destroy();
      cleanup(...Object.values(dirs));
    });

    it('find each other by beacons and replicate a write both ways', async () => {
      const keyFile = join(dirs.keys, 'keyring.json');
      generateKey('--key-file', keyFile);
      // No --host: with a key the node binds every interface; discovery is on by default.
      const a = await startNsNode(hostA.ns, dirs.a, ['--name', 'a', '--key-file', keyFile]);
      procs.push(a);
      const b = await startNsNode(hostB.ns, dirs.b, ['--name', 'b', '--key-file', keyFile]);
      procs.push(b);
      const startedAt = performance.now();

      await eventually(
        'A and B to find each other',
        async () => {
          const onA = (await nsMembers(hostA.ns, a)).find((m) => m.nodeId === b.nodeId);
          const onB = (await nsMembers(hostB.ns, b)).find((m) => m.nodeId === a.nodeId);
          if (onA?.status !== 'alive' || onB?.status !== 'alive') return undefined;
          expect(onA).toMatchObject({ name: 'b', addresses: [hostB.ip], port: b.port });
          expect(onB).toMatchObject({ name: 'a', addresses: [hostA.ip], port: a.port });
          return true;
        },
        20_000,
      );
      console.log(`found each other ${Math.round(performance.now() - startedAt)} ms after both started`);

      expect((await nsHttp(hostA.ns, `${a.url}/api/v1/objects/garden-valve`, 'PUT', { fields: { open: true } })).status).toBe(200);
      await eventually('garden-valve on B', async () => ((await nsGetObject(hostB.ns, b, 'garden-valve'))?.open === true ? true : undefined));
      expect((await nsHttp(hostB.ns, `${b.url}/api/v1/objects/garage-door`, 'PATCH', { closed: false })).status).toBe(200);
      await eventually('garage-door on A', async () => ((await nsGetObject(hostA.ns, a, 'garage-door'))?.closed === false ? true : undefined));
    });
  });
}
