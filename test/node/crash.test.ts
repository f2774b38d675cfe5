import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, getObject, http, killNode, sleep, startNode, tempDir, type NodeProc } from './proc.ts';

// Acknowledged means committed: writes that got a 200 survive a SIGKILL at any moment.

describe('durability across SIGKILL of a real node', () => {
  const dir = tempDir();
  const alive: NodeProc[] = [];
  afterAll(async () => {
    await Promise.all(alive.map((n) => killNode(n)));
    cleanup(dir);
  });

  it('every acknowledged write is present after kill -9 and restart', async () => {
    const acked = new Map<string, number>();
    const attempted = new Map<string, number>();
    // A write in flight at the kill may or may not have committed: the stored value is the last
    // acknowledged one or a later attempt, never older and never anything else.
    const check = async (node: NodeProc, when: string): Promise<void> => {
      for (const [id, v] of acked) {
        const got = (await getObject(node, id))?.v as number | undefined;
        expect(got, `${id} ${when}`).toBeDefined();
        expect(got! >= v && got! <= (attempted.get(id) ?? v) && (got! - v) % 50 === 0, `${id} ${when}: stored ${got}, acknowledged ${v}`).toBe(true);
      }
    };
    for (let round = 0; round < 5; round++) {
      // The API rate limit is off: the writers and the checks outrun 200 requests/s on purpose.
      const node = await startNode(dir, ['--name', 'victim', '--durability', round % 2 === 0 ? 'normal' : 'full', '--api-rate-limit', '0']);
      alive.push(node);
      // Check everything acknowledged so far survived the previous kill.
      await check(node, `after kill ${round}`);
      let stop = false;
      const writers = Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; !stop; i++) {
          const id = `w${w}-${round}-${i % 50}`;
          attempted.set(id, i);
          try {
            const r = await http(`${node.url}/api/v1/objects/${id}`, 'PUT', { fields: { v: i } });
            if (r.status === 200) acked.set(id, i);
          } catch {
            return; // the process died mid-request: that write was never acknowledged
          }
        }
      });
      await sleep(100 + Math.random() * 400);
      await killNode(node);
      stop = true;
      await Promise.all(writers);
    }
    expect(acked.size).toBeGreaterThan(50);
    const last = await startNode(dir, ['--name', 'victim', '--api-rate-limit', '0']);
    alive.push(last);
    await check(last, 'at the end');
  });
});
