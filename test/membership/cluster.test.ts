import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/core/ids.ts';
import { resolveMembershipConfig, suspicionBounds, type MembershipConfig } from '../../src/membership/index.ts';
import { Cluster } from './cluster.ts';

// Several Membership instances wired through an in-test router (cluster.ts), in virtual
// time with a seeded PRNG. Every probe message carries the sender's piggyback.

const LOCAL = resolveMembershipConfig('local');
const SEED = 0x5eed;

/** A cluster of `n` nodes that all handshook with the first, run until every node sees every other alive. */
function converged(n: number, config: MembershipConfig = LOCAL, seed = SEED): Cluster {
  const c = new Cluster(config, seed, n);
  c.joinAll();
  c.run(20_000, 10, () => c.converged());
  expect(c.converged(), `seed ${seed}: not converged`).toBe(true);
  return c;
}

const at = (id: NodeId | undefined): NodeId => {
  if (id === undefined) throw new Error('no such node');
  return id;
};

describe('Membership in a cluster', () => {
  it.each([3, 5, 8])('%i nodes that only joined one seed discover each other by gossip', (n) => {
    const c = new Cluster(LOCAL, SEED + n, n);
    c.joinAll();
    const done = c.run(20_000, 10, () => c.converged());
    expect(c.converged()).toBe(true);
    // About one probe round (a node greets whoever it probes), not the whole budget.
    expect(done).toBeLessThanOrEqual((n + 2) * LOCAL.probeIntervalMs);
    // Some members were learned from piggybacked gossip, before any link between the two opened.
    const learnedByGossip = c.log.filter(({ at, observer, output }) => {
      if (output.type !== 'status' || output.previous !== 'unknown') return false;
      const opened = c.links.find((l) => (l.a === observer && l.b === output.nodeId) || (l.b === observer && l.a === output.nodeId));
      return opened === undefined || opened.at > at;
    });
    if (n > 3) expect(learnedByGossip.length).toBeGreaterThan(0);
    for (const id of c.ids) {
      expect(c.node(id).members()).toHaveLength(n);
      expect(c.node(id).aliveNodeIds()).toEqual(c.ids.filter((x) => x !== id).sort());
      expect(c.node(id).counters()).toMatchObject({ suspicions: 0, deaths: 0, invalidGossip: 0 });
    }
  });

  it('a node that stops answering goes suspect, then dead, within the Lifeguard bound', () => {
    const n = 5;
    const c = converged(n);
    const victim = at(c.ids[2]);
    const crashedAt = c.now;
    const mark = c.log.length;
    c.crash(victim);
    const { minMs, maxMs } = suspicionBounds(LOCAL, n);
    // Worst case: probed last in this round and last in the next, then the full suspicion.
    const bound = 2 * n * LOCAL.probeIntervalMs + LOCAL.probeIntervalMs + maxMs;
    c.run(bound + 1000, 10, () => c.live().every((id) => c.node(id).get(victim)?.status === 'dead'));
    const seen = c.live().map((id) => c.transitions(id, victim, mark));
    for (const s of seen) {
      // Suspect then dead; an observer may hear of the death before its own suspicion.
      expect(s.map((t) => t.status)).toSatisfy((x: string[]) => ['suspect,dead', 'dead'].includes(x.join()));
      expect((s.at(-1)?.at ?? Infinity) - crashedAt).toBeLessThanOrEqual(bound);
    }
    // The first verdict comes no sooner than the minimum suspicion and no later than the maximum.
    const firstSuspect = Math.min(...seen.flat().filter((t) => t.status === 'suspect').map((t) => t.at));
    const firstDead = Math.min(...seen.flat().filter((t) => t.status === 'dead').map((t) => t.at));
    expect(firstDead - firstSuspect).toBeGreaterThanOrEqual(minMs);
    expect(firstDead - firstSuspect).toBeLessThanOrEqual(maxMs + 10);
  });

  it('a stalled node that is suspected refutes in time, and stays alive with a raised incarnation', () => {
    // LAN timers: the suspicion lasts at least 4 s, the stall 3.5 s (3.5 probe intervals).
    const LAN = resolveMembershipConfig('lan');
    let refuted = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const c = converged(5, LAN, seed);
      const slow = at(c.ids[1]);
      c.stall(slow, 3500);
      c.run(20 * LAN.probeIntervalMs);
      const me = c.node(slow);
      if (me.counters().refutations > 0) refuted++;
      expect(me.self().incarnation).toBe(me.counters().refutations);
      for (const id of c.ids) {
        expect(c.node(id).counters().deaths, `seed ${seed}, observer ${id}`).toBe(0);
        if (id !== slow) expect(c.node(id).get(slow)).toMatchObject({ status: 'alive', incarnation: me.self().incarnation });
      }
    }
    // Most stalls are long enough to be noticed (the others end before any probe period does).
    expect(refuted).toBeGreaterThanOrEqual(3);
  });

  it('an indirect probe through ping-req saves a node whose direct link is down', () => {
    const c = converged(4);
    const [a, x] = [at(c.ids[1]), at(c.ids[3])];
    c.link(a, x, false);
    c.run(10_000);
    expect(c.node(a).counters().indirectProbes).toBeGreaterThan(0);
    expect(c.node(x).counters().indirectProbes).toBeGreaterThan(0);
    const relayed = c.ids.reduce((sum, id) => sum + c.node(id).counters().relayedProbes, 0);
    expect(relayed).toBeGreaterThan(0);
    for (const id of c.ids) expect(c.node(id).counters(), `observer ${id}`).toMatchObject({ suspicions: 0, deaths: 0 });
    expect(c.converged()).toBe(true);
  });

  it("a healed partition kills nobody: the isolated node's stale dead records are only suspicions, refuted", () => {
    // Reaping later than the partition lasts: the isolated node still holds its verdicts when it returns.
    const config = resolveMembershipConfig('local', { reapTimeoutMs: 120_000 });
    for (const seed of [1, 2, 3]) {
      const c = converged(5, config, seed);
      const lonely = at(c.ids[4]);
      const others = c.ids.filter((id) => id !== lonely);
      c.isolate(lonely);
      const longEnough = () => others.every((id) => c.node(lonely).get(id)?.status === 'dead' && c.node(id).get(lonely)?.status === 'dead');
      c.run(30_000, 10, longEnough);
      expect(longEnough(), `seed ${seed}: the partition did not last long enough`).toBe(true);
      const healed = c.log.length;
      c.isolate(lonely, false);
      // What a real node does for its dead members (Reconnector): HELLO and a sync round;
      // then the sync layer's periodic rounds.
      c.connect(lonely, at(c.ids[0]));
      for (let t = 0; t < 30_000 && !c.converged(); t += 1000) {
        c.run(1000, 10, () => c.converged());
        c.syncRound();
      }
      expect(c.converged(), `seed ${seed}: not converged`).toBe(true);
      // Every node is alive and reachable again: no one may be declared dead.
      const deaths = c.log.slice(healed).filter(({ output }) => output.type === 'status' && output.status === 'dead');
      expect(deaths.map(({ observer, output }) => `${observer} declared ${output.type === 'status' ? output.nodeId : ''} dead`), `seed ${seed}`).toEqual([]);
    }
  });

  it('a graceful leave is seen as left, never dead', () => {
    const c = converged(5);
    const leaver = at(c.ids[4]);
    const mark = c.log.length;
    c.log.push(...c.node(leaver).leave(c.now).map((output) => ({ at: c.now, observer: leaver, output })));
    // It keeps answering for a moment (its acks carry the news), then goes away.
    c.run(3000, 10, () => c.live().every((id) => id === leaver || c.node(id).get(leaver)?.status === 'left'));
    c.crash(leaver);
    c.run(5000);
    expect(c.transitions(leaver, leaver, mark).map((t) => t.status)).toEqual(['left']);
    for (const id of c.live()) {
      expect(c.transitions(id, leaver, mark).map((t) => t.status)).toEqual(['left']);
      expect(c.node(id).aliveNodeIds()).not.toContain(leaver);
    }
  });

  it('dead and left members are reaped after reapTimeoutMs; stale gossip cannot bring them back, a restart can', () => {
    const config = resolveMembershipConfig('local', { reapTimeoutMs: 3000 });
    const c = converged(5, config);
    const [dead, leaver] = [at(c.ids[1]), at(c.ids[2])];
    const staleDead = c.node(dead).self();
    const staleLeaver = c.node(leaver).self();
    c.node(leaver).leave(c.now);
    c.run(3000, 10, () => c.live().every((id) => id === leaver || c.node(id).get(leaver)?.status === 'left'));
    c.crash(leaver);
    c.crash(dead);
    c.run(15_000, 10, () => c.live().every((id) => c.node(id).get(dead) === undefined && c.node(id).get(leaver) === undefined));
    for (const id of c.live()) {
      expect(c.transitions(id, dead).map((t) => t.status).slice(-3)).toEqual(['suspect', 'dead', 'removed']);
      expect(c.transitions(id, leaver).map((t) => t.status).slice(-2)).toEqual(['left', 'removed']);
      const [removed, died] = [c.transitions(id, dead).at(-1), c.transitions(id, dead).at(-2)];
      expect((removed?.at ?? 0) - (died?.at ?? 0)).toBe(config.reapTimeoutMs);
      // Stale gossip (their last alive records) is ignored.
      expect(c.node(id).applyGossip([staleDead, staleLeaver], c.now)).toEqual([]);
      expect(c.node(id).members()).toHaveLength(3);
    }
    // The crashed node restarts with a higher generation and is learned again.
    c.add(dead, 2);
    c.connect(dead, at(c.ids[0]));
    c.run(10_000, 10, () => c.converged());
    expect(c.converged()).toBe(true);
    for (const id of c.live()) if (id !== dead) expect(c.node(id).get(dead)).toMatchObject({ generation: 2, status: 'alive' });
  });

  it('a handshake from a copy of our identity is reported and kept out', () => {
    const c = converged(3);
    const original = at(c.ids[0]);
    const copy = new Cluster(LOCAL, SEED + 99);
    copy.add(original, 1); // the same node id: a copied data directory
    const out = c.node(original).hello(copy.node(original).self(), copy.nonce(original), c.now);
    expect(out).toEqual([{ type: 'duplicate-identity', nodeId: original, bootNonce: copy.nonce(original) }]);
    expect(c.node(original).counters().duplicateIdentity).toBe(1);
    expect(c.node(original).members()).toHaveLength(3);
  });

  it('replays exactly from its seed', () => {
    const trace = (seed: number) => {
      const c = converged(6, LOCAL, seed);
      c.crash(at(c.ids[3]));
      c.run(5000);
      return JSON.stringify(c.log.map((o) => [o.at, o.observer, o.output]));
    };
    expect(trace(42)).toBe(trace(42));
    expect(trace(42)).not.toBe(trace(43));
  });
});
