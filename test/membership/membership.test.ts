import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { newNodeId, type NodeId } from '../../src/core/ids.ts';
import { SeededRandom } from '../../src/core/random.ts';
import {
  maxGeneration,
  Membership,
  resolveMembershipConfig,
  retransmitLimit,
  type MemberRecord,
  type MemberStatus,
  type MembershipConfig,
  type MembershipOutput,
} from '../../src/membership/index.ts';

// One Membership instance driven by hand: gossip rules, refutation, identity, limits,
// piggyback counts and Lifeguard's confirmations. Pings it sends are answered at once by
// the test, so its own probing never interferes.

const LOCAL = resolveMembershipConfig('local');

/** Every Membership a test made: its invariants must hold when the test ends. */
const made: Membership[] = [];
afterEach(() => {
  for (const m of made.splice(0)) expect(m.checkInvariants()).toEqual([]);
});

/** Wall-clock time of the tests' clock: a realistic epoch, while the monotonic `now` starts at 0. */
const WALL = 1_700_000_000_000;

function setup(seed = 1, config: MembershipConfig = LOCAL, clock = new ManualClock(WALL)) {
  const random = new SeededRandom(seed);
  const id = newNodeId(random);
  const m = new Membership({
    self: { nodeId: id, name: 'me', generation: 5, addresses: ['10.0.0.1'], port: 7400, capabilities: ['hue'], tags: { room: 'hall' } },
    bootNonce: 'my-nonce',
    config,
    random: random.fork(),
    now: 0,
    clock,
  });
  made.push(m);
  const peer = (generation = 1, incarnation = 0, status: MemberStatus = 'alive', nodeId: NodeId = newNodeId(random)): MemberRecord => ({
    nodeId,
    name: `peer-${nodeId.slice(0, 4)}`,
    generation,
    incarnation,
    status,
    addresses: ['10.0.0.9'],
    port: 7401,
    capabilities: [],
    tags: {},
  });
  return { m, id, random, peer };
}

/** Answers every ping `m` sends, so its probes always succeed. */
function answered(m: Membership, outputs: MembershipOutput[], now: number): MembershipOutput[] {
  const all = [...outputs];
  for (const o of outputs) {
    if (o.type === 'send' && o.message.kind === 'ping') all.push(...m.handleProbe(o.to, { kind: 'ack', probeSeq: o.message.probeSeq, target: o.to }, now));
  }
  return all;
}

const statuses = (outputs: readonly MembershipOutput[]) =>
  outputs.flatMap((o) => (o.type === 'status' ? [`${o.previous}→${o.status}`] : []));

describe('Membership: applying gossip', () => {
  it('learns members (unknown → alive) and never adds itself', () => {
    const { m, id, peer } = setup();
    const a = peer();
    expect(statuses(m.applyGossip([a, { ...m.self(), name: 'impostor' }], 10))).toEqual(['unknown→alive']);
    expect(m.members().map((r) => r.nodeId).sort()).toEqual([a.nodeId, id].sort());
    expect(m.aliveNodeIds()).toEqual([a.nodeId]);
    expect(m.self().name).toBe('me');
  });

  it('counts and drops invalid entries, applying the valid ones of the same batch', () => {
    const { m, peer } = setup();
    const good = peer();
    const out = m.applyGossip([null, 'x', { ...peer(), port: -1 }, { ...peer(), status: 'gone' }, good, { ...peer(), generation: 2 ** 60 }], 10);
    expect(statuses(out)).toEqual(['unknown→alive']);
    expect(m.counters().invalidGossip).toBe(5);
    expect(m.members()).toHaveLength(2);
    expect(m.get(good.nodeId)).toEqual(good);
  });

  it('ignores and counts a far-future generation; epoch-second generations within a year pass', () => {
    const { m, peer } = setup();
    const bound = maxGeneration(WALL, LOCAL.maxFutureGenerationMs);
    const tooFar = peer(bound + 1);
    const epochSeconds = peer(bound);
    m.applyGossip([tooFar, epochSeconds], 10);
    expect(m.counters().ignoredFutureGeneration).toBe(1);
    expect(m.get(tooFar.nodeId)).toBeUndefined();
    expect(m.get(epochSeconds.nodeId)?.generation).toBe(bound);
    // With a wall clock near 0 (a test clock), small counters still pass.
    const small = setup(2, LOCAL, new ManualClock(0));
    small.m.applyGossip([small.peer(1000)], 0);
    expect(small.m.counters().ignoredFutureGeneration).toBe(0);
  });

  it('bounds generations by the wall clock, not by the monotonic time base', () => {
    // A real node: `now` is performance.now() (near 0 after start), the clock is epoch ms.
    const clock = new ManualClock(WALL);
    const epochSeconds = Math.floor(WALL / 1000);
    const random = new SeededRandom(11);
    const init = (generation: number) => ({
      self: { nodeId: newNodeId(random), name: 'epoch', generation, addresses: ['10.0.0.1'], port: 7400, capabilities: [], tags: {} },
      bootNonce: 'n',
      config: LOCAL,
      random: random.fork(),
      now: 12.5,
      clock,
    });
    const m = new Membership(init(epochSeconds));
    made.push(m);
    expect(m.self().generation).toBe(epochSeconds);
    // Peers with epoch-second generations (a restart a second later, a peer's clock a month ahead) are accepted.
    const peer = (generation: number): MemberRecord => ({ ...init(generation).self, name: `g${generation}`, incarnation: 0, status: 'alive' });
    const [later, monthAhead] = [peer(epochSeconds + 1), peer(epochSeconds + 30 * 24 * 3600)];
    expect(statuses(m.applyGossip([later, monthAhead], 20))).toEqual(['unknown→alive', 'unknown→alive']);
    // Absurd ones, far beyond a year ahead of the wall clock, are still refused.
    const absurd = peer(epochSeconds + 2 * 365 * 24 * 3600);
    expect(m.applyGossip([absurd], 30)).toEqual([]);
    expect(m.counters().ignoredFutureGeneration).toBe(1);
    expect(() => new Membership(init(epochSeconds + 2 * 365 * 24 * 3600))).toThrow(/maxGeneration/);
    // The bound moves with the wall clock, not with `now`.
    clock.advance(2 * 365 * 24 * 3600 * 1000);
    expect(statuses(m.applyGossip([absurd], 40))).toEqual(['unknown→alive']);
  });

  it('a same-version claim changes only the status; only a fresher version changes owner fields', () => {
    const { m, peer } = setup();
    const a = peer(3, 2);
    m.applyGossip([a], 10);
    m.applyGossip([{ ...a, status: 'suspect', addresses: ['6.6.6.6'], name: 'forged' }], 20);
    expect(m.get(a.nodeId)).toMatchObject({ status: 'suspect', addresses: ['10.0.0.9'], name: a.name });
    // Stale news (lower incarnation) changes nothing.
    expect(m.applyGossip([{ ...a, incarnation: 1, status: 'dead' }], 30)).toEqual([]);
    // The owner's refutation (higher incarnation) replaces the whole record.
    const refuted = { ...a, incarnation: 3, addresses: ['10.0.0.10'] };
    expect(statuses(m.applyGossip([refuted], 40))).toEqual(['suspect→alive']);
    expect(m.get(a.nodeId)).toEqual(refuted);
  });

  it('keeps extra wire properties out of stored and relayed records', () => {
    const { m, peer } = setup();
    const a = peer();
    m.applyGossip([{ ...a, secret: 'x'.repeat(1000) }], 10);
    expect(m.get(a.nodeId)).toEqual(a);
    expect(m.piggyback(16).find((r) => r.nodeId === a.nodeId)).toEqual(a);
  });
});

describe('Membership: news about ourselves', () => {
  it('refutes suspect/dead at our version by raising the incarnation, gossiped first', () => {
    const { m } = setup();
    m.piggyback(16);
    m.piggyback(16); // drain the initial self announcement
    const me = m.self();
    expect(m.applyGossip([{ ...me, status: 'suspect' }], 10)).toEqual([]);
    expect(m.self()).toMatchObject({ status: 'alive', incarnation: 1 });
    m.applyGossip([{ ...me, status: 'dead', incarnation: 1 }], 20);
    expect(m.self().incarnation).toBe(2);
    expect(m.counters().refutations).toBe(2);
    expect(m.piggyback(1)).toEqual([m.self()]);
  });

  it('answers an older record of us (a refuted rumour still circulating) by re-announcing to its sender', () => {
    const { m, peer } = setup();
    const b = peer();
    m.applyGossip([b], 0);
    const me = m.self();
    m.applyGossip([{ ...me, status: 'suspect' }], 10, b.nodeId); // refuted: incarnation 1
    while (m.piggyback(16).length > 0); // drain
    const out = m.applyGossip([{ ...me, status: 'dead' }], 20, b.nodeId);
    expect(out).toEqual([{ type: 'send', to: b.nodeId, message: { kind: 'ping', probeSeq: expect.any(Number), target: b.nodeId } }]);
    expect(m.piggyback(1)).toEqual([m.self()]);
    expect(m.counters()).toMatchObject({ refutations: 1, reannouncements: 1 });
    expect(m.self().incarnation).toBe(1);
  });

  it('never lets gossip change our addresses or other fields', () => {
    const { m } = setup();
    const me = m.self();
    m.applyGossip([{ ...me, incarnation: 7, addresses: ['6.6.6.6'], port: 1, name: 'evil', tags: { owned: 'yes' } }], 10);
    expect(m.self()).toEqual({ ...me, incarnation: 8 });
  });

  it('counters are a Record<string, number> snapshot', () => {
    const { m } = setup();
    const c: Readonly<Record<string, number>> = m.counters();
    expect(Object.values(c).every((v) => v === 0)).toBe(true);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('ignores stale news about us (an older generation, our own record)', () => {
    const { m } = setup();
    const me = m.self();
    m.applyGossip([{ ...me, generation: 4, incarnation: 50, status: 'dead' }, { ...me, status: 'alive' }], 10);
    expect(m.self()).toEqual(me);
    expect(m.counters()).toMatchObject({ supersededSelf: 0, refutations: 0, generationRaises: 0 });
  });

  it('news of a later life of ours (our generation went backwards) raises our generation above it', () => {
    const { m, peer } = setup();
    const b = peer();
    m.applyGossip([b], 0);
    while (m.piggyback(16).length > 0); // drain
    const me = m.self();
    // The mesh remembers us at generation 7 (dead): a restored data directory started us at 5.
    const out = m.applyGossip([{ ...me, generation: 7, incarnation: 3, status: 'dead' }], 10, b.nodeId);
    expect(out).toEqual([{ type: 'generation', previous: 5, generation: 8 }]);
    expect(m.self()).toEqual({ ...me, generation: 8, incarnation: 0, status: 'alive' });
    expect(m.counters()).toMatchObject({ generationRaises: 1, supersededSelf: 0, refutations: 0 });
    // Gossiped first.
    expect(m.piggyback(1)).toEqual([m.self()]);
    // The old life's record now is old news, answered with ours.
    expect(m.applyGossip([{ ...me, generation: 7, incarnation: 3, status: 'dead' }], 20, b.nodeId)).toEqual([
      { type: 'send', to: b.nodeId, message: { kind: 'ping', probeSeq: expect.any(Number), target: b.nodeId } },
    ]);
    expect(m.self().generation).toBe(8);
  });

  it('raises above a live later life once (a restart before the mesh noticed); another live one is a copy, only counted', () => {
    const { m } = setup();
    const me = m.self();
    expect(m.applyGossip([{ ...me, generation: 6 }], 10)).toEqual([{ type: 'generation', previous: 5, generation: 7 }]);
    // A second live record above us: another process uses our identity; outbidding it would never end.
    expect(m.applyGossip([{ ...me, generation: 9, incarnation: 2 }], 20)).toEqual([]);
    expect(m.self().generation).toBe(7);
    expect(m.counters()).toMatchObject({ generationRaises: 1, supersededSelf: 1 });
    // A later life that is over (dead) is a past one: raised above.
    expect(m.applyGossip([{ ...me, generation: 9, incarnation: 2, status: 'dead' }], 30)).toEqual([{ type: 'generation', previous: 7, generation: 10 }]);
  });

  it('reports a peer with our node id and another boot nonce as duplicate-identity, and keeps it out', () => {
    const { m, id } = setup();
    const copy = { ...m.self(), addresses: ['10.0.0.99'], incarnation: 3 };
    expect(m.hello(copy, 'their-nonce', 10)).toEqual([{ type: 'duplicate-identity', nodeId: id, bootNonce: 'their-nonce' }]);
    expect(m.counters().duplicateIdentity).toBe(1);
    expect(m.members()).toHaveLength(1);
    expect(m.self().addresses).toEqual(['10.0.0.1']);
    // Our own nonce: we reached ourselves through a loop; nothing to report.
    expect(m.hello(copy, 'my-nonce', 20)).toEqual([]);
    expect(m.counters().duplicateIdentity).toBe(1);
  });

  it('hello learns the peer; an invalid hello record is counted', () => {
    const { m, peer } = setup();
    const a = peer();
    expect(statuses(m.hello(a, 'n', 10))).toEqual(['unknown→alive']);
    expect(m.hello({ ...a, nodeId: 'nope' }, 'n', 20)).toEqual([]);
    expect(m.counters().invalidGossip).toBe(1);
  });

  it('setAddresses raises the incarnation and queues us with priority; leave is left at incarnation + 1', () => {
    const { m, id, peer } = setup();
    m.applyGossip([peer(), peer()], 0);
    expect(m.setAddresses(['192.168.1.5', 'fe80::1'], 7500, 10)).toEqual([]);
    expect(m.self()).toMatchObject({ addresses: ['192.168.1.5', 'fe80::1'], port: 7500, incarnation: 1 });
    expect(m.piggyback(1)[0]).toEqual(m.self());
    expect(() => m.setAddresses(['x'.repeat(65)], 7500, 20)).toThrow(/addresses/);
    expect(() => m.setAddresses([], 70_000, 20)).toThrow(/port/);
    const out = m.leave(30);
    expect(out).toEqual([{ type: 'status', nodeId: id, previous: 'alive', status: 'left', member: m.self() }]);
    expect(m.self()).toMatchObject({ status: 'left', incarnation: 2 });
    expect(m.piggyback(1)[0]).toEqual(m.self());
    expect(m.leave(40)).toEqual([]);
  });
});

describe('Membership: anti-entropy digests', () => {
  it('digest lists every member; recordsFor sends what the peer lacks or holds older', () => {
    const { m, id, peer } = setup();
    const a = peer(2, 3);
    const b = peer(1, 0);
    const c = peer(1, 1);
    m.applyGossip([a, b, c], 0);
    expect(m.digest()).toEqual({ [id]: [5, 0, 0], [a.nodeId]: [2, 3, 0], [b.nodeId]: [1, 0, 0], [c.nodeId]: [1, 1, 0] });
    const peerDigest = {
      [id]: [5, 0, 0], // same: not sent
      [a.nodeId]: [2, 2, 2], // older incarnation: sent
      [b.nodeId]: [1, 0, 1], // fresher at the peer: not sent
      [c.nodeId]: 'garbage', // malformed: treated as missing
    };
    expect(m.recordsFor(peerDigest).map((r) => r.nodeId).sort()).toEqual([a.nodeId, c.nodeId].sort());
    expect(m.recordsFor({}).length).toBe(4);
  });
});

describe('Membership: piggyback retransmission', () => {
  const cases: [number, number][] = [1, 2, 3, 4].flatMap((mult) => [1, 3, 5, 8].map((n): [number, number] => [mult, n]));

  it.each(cases)('λ=%i, N=%i: every queued update goes out ceil(λ·log10(N+1)) times', (mult, n) => {
    const { m, peer } = setup(7, resolveMembershipConfig('local', { retransmitMult: mult }));
    m.applyGossip(Array.from({ length: n - 1 }, () => peer()), 0);
    const sent = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const batch = m.piggyback(1);
      if (batch.length === 0) break;
      for (const r of batch) sent.set(r.nodeId, (sent.get(r.nodeId) ?? 0) + 1);
    }
    const limit = retransmitLimit(mult, n);
    expect(limit).toBe(Math.ceil(mult * Math.log10(n + 1)));
    expect([...sent.values()]).toEqual(Array.from({ length: n }, () => limit));
  });

  it('hands out the fewest-sent first and never more than gossipMaxPerMessage', () => {
    const { m, peer } = setup(8, resolveMembershipConfig('local', { gossipMaxPerMessage: 2 }));
    const [a, b, c] = [peer(), peer(), peer()];
    m.applyGossip([a, b, c], 0);
    const first = m.piggyback(100);
    expect(first).toHaveLength(2);
    const second = m.piggyback(2);
    // Nothing sent twice while something has not been sent once.
    expect(new Set([...first, ...second].map((r) => r.nodeId)).size).toBe(4);
  });
});

describe('Membership: Lifeguard suspicion', () => {
  // suspicionMult 4 → k = 2 expected confirmations; with 6 members min = 4·1·200 = 800 ms, max = 4800 ms.
  const config = resolveMembershipConfig('local', { suspicionMult: 4 });

  /** When the suspect is declared dead, given claims as (suspectedBy, relayed by) pairs after the first. */
  function deadAfter(claims: (ids: NodeId[], suspect: NodeId) => [suspecter: NodeId, relay: NodeId][]): number {
    const { m, peer } = setup(3, config);
    const others = Array.from({ length: 5 }, () => peer());
    m.applyGossip(others, 0);
    const [x, ...rest] = others as [MemberRecord, ...MemberRecord[]];
    const ids = rest.map((r) => r.nodeId);
    const claim = (by: NodeId): MemberRecord => ({ ...x, status: 'suspect', suspectedBy: by });
    expect(statuses(m.applyGossip([claim(ids[0] as NodeId)], 0, ids[0]))).toEqual(['alive→suspect']);
    for (const [by, relay] of claims(ids, x.nodeId)) m.applyGossip([claim(by)], 0, relay);
    for (let now = 10; now <= 10_000; now += 10) {
      const out = answered(m, m.tick(now), now);
      if (statuses(out).includes('suspect→dead')) return now;
    }
    return Number.POSITIVE_INFINITY;
  }

  it('with no confirmation the suspicion lasts the maximum', () => {
    expect(deadAfter(() => [])).toBe(4800);
  });

  it('relays, the first suspecter again, and the suspect itself do not confirm', () => {
    expect(deadAfter((ids, x) => [[ids[0] as NodeId, ids[1] as NodeId], [ids[0] as NodeId, ids[2] as NodeId], [x, x]])).toBe(4800);
  });

  it('one independent confirmation shortens it to max − (max−min)·log 2 / log 3', () => {
    const expected = Math.floor(4800 - (4000 * Math.log(2)) / Math.log(3));
    const at = deadAfter((ids) => [[ids[1] as NodeId, ids[3] as NodeId]]);
    expect(at).toBeGreaterThanOrEqual(expected);
    expect(at).toBeLessThan(expected + 10);
  });

  it('k confirmations bring it down to the minimum', () => {
    expect(deadAfter((ids) => [[ids[1] as NodeId, ids[1] as NodeId], [ids[2] as NodeId, ids[0] as NodeId], [ids[3] as NodeId, ids[0] as NodeId]])).toBe(800);
  });

  it('a new confirmation is stamped on the record and gossiped; our own failed probe stamps us', () => {
    const { m, id, peer } = setup(5, config);
    const others = Array.from({ length: 5 }, () => peer());
    m.applyGossip(others, 0);
    while (m.piggyback(16).length > 0); // drain
    const [x, b, c] = others as [MemberRecord, MemberRecord, MemberRecord];
    m.applyGossip([{ ...x, status: 'suspect', suspectedBy: b.nodeId }], 0, b.nodeId);
    expect(m.get(x.nodeId)).toMatchObject({ status: 'suspect', suspectedBy: b.nodeId });
    m.applyGossip([{ ...x, status: 'suspect', suspectedBy: c.nodeId }], 0, c.nodeId);
    expect(m.piggyback(16)).toContainEqual({ ...x, status: 'suspect', suspectedBy: c.nodeId });
    // Our own probe of x fails (nobody answers): we are the next independent suspecter.
    let now = 0;
    while (m.get(x.nodeId)?.suspectedBy !== id && now < 10_000) {
      now += 10;
      const out = m.tick(now);
      for (const o of out) {
        if (o.type === 'send' && o.message.kind === 'ping' && o.to !== x.nodeId) m.handleProbe(o.to, { kind: 'ack', probeSeq: o.message.probeSeq, target: o.to }, now);
      }
    }
    expect(m.get(x.nodeId)).toMatchObject({ status: 'suspect', suspectedBy: id });
  });

  it('a dead verdict drops suspectedBy', () => {
    const { m, peer } = setup(6, config);
    const [x, b, c] = [peer(), peer(), peer()];
    m.applyGossip([x, b, c], 0);
    m.applyGossip([{ ...x, status: 'suspect', suspectedBy: b.nodeId }], 0, b.nodeId);
    // From c, which does not count in the suspicion yet, the dead claim applies (invariant 9).
    m.applyGossip([{ ...x, status: 'dead', suspectedBy: b.nodeId }], 0, c.nodeId);
    expect(m.get(x.nodeId)).toEqual({ ...x, status: 'dead' });
  });
});

describe('Membership: dead claims against members we hold alive', () => {
  it('a dead claim at the version we hold alive is a suspicion by its sender; the member can refute', () => {
    const { m, peer } = setup(41);
    const [x, b] = [peer(1, 3), peer()];
    m.applyGossip([x, b], 0);
    expect(statuses(m.applyGossip([{ ...x, status: 'dead' }], 10, b.nodeId))).toEqual(['alive→suspect']);
    expect(m.get(x.nodeId)).toEqual({ ...x, status: 'suspect', suspectedBy: b.nodeId });
    // The same sender's stale record again is no new evidence.
    expect(m.applyGossip([{ ...x, status: 'dead' }], 20, b.nodeId)).toEqual([]);
    expect(m.get(x.nodeId)?.status).toBe('suspect');
    // x refutes.
    expect(statuses(m.applyGossip([{ ...x, incarnation: 4 }], 30, x.nodeId))).toEqual(['suspect→alive']);
    expect(m.counters().deaths).toBe(0);
  });

  it('a dead claim fresher than the alive record we hold is a suspicion at the claimed version', () => {
    const { m, peer } = setup(42);
    const [x, b] = [peer(1, 3), peer()];
    m.applyGossip([x, b], 0);
    const claim = { ...x, incarnation: 5, addresses: ['10.0.0.77'], status: 'dead' as const };
    expect(statuses(m.applyGossip([claim], 10, b.nodeId))).toEqual(['alive→suspect']);
    expect(m.get(x.nodeId)).toEqual({ ...claim, status: 'suspect', suspectedBy: b.nodeId });
  });

  it('genuine deaths still spread: a dead claim against a suspicion at that version is applied', () => {
    const { m, peer } = setup(43);
    const [x, b, c] = [peer(), peer(), peer()];
    m.applyGossip([x, b, c], 0);
    // First heard as dead from b (a suspicion), then as dead from c: dead.
    expect(statuses(m.applyGossip([{ ...x, status: 'dead' }], 10, b.nodeId))).toEqual(['alive→suspect']);
    expect(statuses(m.applyGossip([{ ...x, status: 'dead' }], 20, c.nodeId))).toEqual(['suspect→dead']);
    // Against a suspicion of y raised by b (and relayed by c), b's own dead claim counts for
    // nothing new; a dead claim from c, which does not count in it yet, is applied.
    const y = peer();
    m.applyGossip([y], 30);
    m.applyGossip([{ ...y, status: 'suspect', suspectedBy: b.nodeId }], 40, c.nodeId);
    expect(m.applyGossip([{ ...y, status: 'dead' }], 50, b.nodeId)).toEqual([]);
    expect(statuses(m.applyGossip([{ ...y, status: 'dead' }], 60, c.nodeId))).toEqual(['suspect→dead']);
    expect(m.counters().deaths).toBe(2);
  });
});

describe('Membership: telling a member of its later life', () => {
  it('a member announcing a lower generation than we hold is sent our record of it', () => {
    const { m, peer } = setup(51);
    const x = peer(4, 2);
    m.applyGossip([x], 0);
    while (m.piggyback(16).length > 0); // drain
    // x restarted from an old copy of its data directory: generation 2.
    const restored = { ...x, generation: 2, incarnation: 0 };
    const out = m.applyGossip([restored], 10, x.nodeId);
    expect(out).toEqual([{ type: 'send', to: x.nodeId, message: { kind: 'ping', probeSeq: expect.any(Number), target: x.nodeId } }]);
    expect(m.piggyback(1)).toEqual([x]);
    expect(m.counters().laterLivesTold).toBe(1);
    expect(m.laterLifeOf(restored)).toEqual(x);
    // Relayed by someone else, an old record of x is just stale gossip.
    const b = peer();
    m.applyGossip([b], 20);
    expect(m.applyGossip([restored], 30, b.nodeId)).toEqual([]);
    expect(m.counters().laterLivesTold).toBe(1);
  });

  it('laterLifeOf a reaped member is its tombstone version, nothing for a newer generation or ourselves', () => {
    const config = resolveMembershipConfig('local', { reapTimeoutMs: 100 });
    const { m, peer } = setup(52, config);
    const x = peer(4, 2);
    m.applyGossip([x], 0);
    m.applyGossip([{ ...x, status: 'left', incarnation: 3 }], 0, x.nodeId);
    for (let now = 10; now <= 500 && m.get(x.nodeId) !== undefined; now += 10) answered(m, m.tick(now), now);
    expect(m.get(x.nodeId)).toBeUndefined();
    const restored = { ...x, generation: 1, addresses: ['10.0.0.50'] };
    expect(m.laterLifeOf(restored)).toEqual({ ...restored, generation: 4, incarnation: 3, status: 'left' });
    expect(m.laterLifeOf({ ...x, generation: 5 })).toBeUndefined();
    expect(m.laterLifeOf({ ...m.self(), generation: 1 })).toBeUndefined();
  });
});

describe('Membership: reaping and tombstones', () => {
  it('reaps dead members after reapTimeoutMs; stale gossip cannot resurrect them, a restart can', () => {
    const config = resolveMembershipConfig('local', { reapTimeoutMs: 1000 });
    const { m, peer } = setup(4, config);
    const a = peer(1, 4);
    m.applyGossip([a], 0);
    // A dead claim against a member we hold alive is a suspicion first (see the partition tests).
    expect(statuses(m.applyGossip([{ ...a, status: 'suspect' }], 100))).toEqual(['alive→suspect']);
    expect(statuses(m.applyGossip([{ ...a, status: 'dead' }], 100))).toEqual(['suspect→dead']);
    let removedAt = -1;
    for (let now = 110; now <= 2000 && removedAt < 0; now += 10) {
      const out = answered(m, m.tick(now), now);
      if (statuses(out).includes('dead→removed')) removedAt = now;
    }
    expect(removedAt).toBe(1100);
    expect(m.get(a.nodeId)).toBeUndefined();
    expect(m.members()).toHaveLength(1);
    expect(m.counters().reaped).toBe(1);
    expect(m.piggyback(16).some((r) => r.nodeId === a.nodeId)).toBe(false);
    // Old news: the alive record, the suspect claim, the dead record itself.
    expect(m.applyGossip([a, { ...a, status: 'suspect' }, { ...a, status: 'dead' }, { ...a, incarnation: 3 }], 2000)).toEqual([]);
    expect(m.get(a.nodeId)).toBeUndefined();
    // A restart (higher generation) is new.
    const restarted = { ...a, generation: 2, incarnation: 0 };
    expect(statuses(m.applyGossip([restarted], 2100))).toEqual(['unknown→alive']);
    expect(m.get(a.nodeId)).toEqual(restarted);
  });
});

describe('Membership: only a matching ack satisfies a probe', () => {
  /** Ticks `m` from `from` until it sends its first probe ping; returns the ping's target, seq and time. */
  function firstPing(m: Membership, from = 0): { to: NodeId; probeSeq: number; at: number } {
    for (let now = from; now <= from + 10 * LOCAL.probeIntervalMs; now += 10) {
      for (const o of m.tick(now)) if (o.type === 'send' && o.message.kind === 'ping' && o.reliable !== true) return { to: o.to, probeSeq: o.message.probeSeq, at: now };
    }
    throw new Error('no probe started');
  }

  it('a target that talks (pings, gossip, hello, a wrong ack) but never acks the probe is suspected', () => {
    const { m, id, peer } = setup(21);
    const a = peer();
    m.applyGossip([a], 0);
    const probe = firstPing(m);
    expect(probe.to).toBe(a.nodeId);
    const out: MembershipOutput[] = [];
    for (let now = probe.at + 10; now <= probe.at + LOCAL.probeIntervalMs; now += 10) {
      // Every step, the target sends something that is not the ack of our probe.
      out.push(...m.handleProbe(a.nodeId, { kind: 'ping', probeSeq: now, target: id }, now));
      out.push(...m.applyGossip([a], now, a.nodeId));
      out.push(...m.hello(a, 'a-nonce', now));
      out.push(...m.handleProbe(a.nodeId, { kind: 'ack', probeSeq: probe.probeSeq + 1, target: a.nodeId }, now));
      out.push(...m.tick(now));
    }
    // We answered its pings, but our probe of it failed: it is suspect, suspected by us.
    expect(out.filter((o) => o.type === 'send' && o.message.kind === 'ack').length).toBeGreaterThan(0);
    expect(statuses(out)).toEqual(['alive→suspect']);
    expect(m.get(a.nodeId)).toMatchObject({ status: 'suspect', suspectedBy: id });
  });

  it('an ack relayed by a ping-req helper satisfies the probe', () => {
    const { m, peer } = setup(22);
    const [a, b] = [peer(), peer()];
    m.applyGossip([a, b], 0);
    const probe = firstPing(m);
    const helper = probe.to === a.nodeId ? b.nodeId : a.nodeId;
    const out: MembershipOutput[] = [];
    let relayed = false;
    for (let now = probe.at + 10; now <= probe.at + 2 * LOCAL.probeIntervalMs; now += 10) {
      for (const o of m.tick(now)) {
        out.push(o);
        if (o.type === 'send' && o.message.kind === 'ping-req' && o.to === helper) {
          expect(o.message).toEqual({ kind: 'ping-req', probeSeq: probe.probeSeq, target: probe.to });
          out.push(...m.handleProbe(helper, { kind: 'ack', probeSeq: probe.probeSeq, target: probe.to }, now));
          relayed = true;
        }
        // The helper itself is probed next: answer that directly.
        if (o.type === 'send' && o.message.kind === 'ping' && o.to === helper) out.push(...m.handleProbe(helper, { kind: 'ack', probeSeq: o.message.probeSeq, target: helper }, now));
      }
    }
    expect(relayed).toBe(true);
    expect(statuses(out)).toEqual([]);
    expect(m.get(probe.to)?.status).toBe('alive');
  });
});

describe("Membership: Lifeguard's local health awareness", () => {
  it('a node that misses acks stretches its probe interval and timeout, up to the maximum, and recovers', () => {
    // Long suspicions, so the unanswered peers stay probe targets throughout.
    const config = resolveMembershipConfig('local', { suspicionMult: 100 });
    const { m, peer } = setup(31, config);
    m.applyGossip([peer(), peer(), peer()], 0);
    const max = config.awarenessMaxMultiplier - 1;
    /** Probe starts, each with the awareness score then and the delay until it escalated (if it did). */
    const probes: { at: number; score: number; escalatedAfter?: number }[] = [];
    let now = 0;
    const step = (answer: boolean): void => {
      now += 10;
      const out = m.tick(now);
      const score = m.counters().awareness; // as the probe started in this tick saw it
      for (const o of out) {
        if (o.type !== 'send') continue;
        if (o.message.kind === 'ping' && o.reliable !== true) {
          probes.push({ at: now, score });
          if (answer) m.handleProbe(o.to, { kind: 'ack', probeSeq: o.message.probeSeq, target: o.to }, now);
        }
        const last = probes.at(-1);
        // Escalation: ping-reqs to helpers (while any is alive) and the reliable fallback ping.
        const escalation = o.message.kind === 'ping-req' || (o.message.kind === 'ping' && o.reliable === true);
        if (escalation && last !== undefined) last.escalatedAfter ??= now - last.at;
      }
      expect(m.counters().awareness).toBeLessThanOrEqual(max);
    };
    // Nobody answers: every failed probe adds one, up to the maximum.
    while (probes.length < max + 3) step(false);
    expect(m.counters().awareness).toBe(max);
    // (The last one is still open: checked up to its start.)
    expect(probes.at(-1)?.score).toBe(max);
    for (const [i, p] of probes.slice(0, -1).entries()) {
      expect(p.score, `probe ${i}`).toBe(Math.min(i, max));
      // Escalation waits the stretched timeout; the next probe, the stretched interval.
      expect(p.escalatedAfter, `probe ${i}`).toBe(config.probeTimeoutMs * (p.score + 1));
      const next = probes[i + 1];
      if (next !== undefined) expect(next.at - p.at, `probe ${i}`).toBe(config.probeIntervalMs * (p.score + 1));
    }
    // Acks again: every successful probe takes one off, back to the base timing.
    const recoveryFrom = probes.length;
    while (probes.length < recoveryFrom + max + 2) step(true);
    expect(m.counters().awareness).toBe(0);
    const recovery = probes.slice(recoveryFrom);
    expect(recovery.map((p) => p.score)).toEqual([max, ...Array.from({ length: max }, (_, i) => max - 1 - i), 0]);
    for (const p of recovery) expect(p.escalatedAfter).toBeUndefined();
    const [a, b] = recovery.slice(-2);
    expect((b?.at ?? 0) - (a?.at ?? 0)).toBe(config.probeIntervalMs);
    expect(m.counters().deaths).toBe(0);
  });

  it('refuting a suspicion of ourselves raises the score', () => {
    const { m } = setup(32);
    m.applyGossip([{ ...m.self(), status: 'suspect' }], 10);
    expect(m.counters()).toMatchObject({ refutations: 1, awareness: 1 });
  });
});

describe('Membership: reliable fallback probe', () => {
  it('escalates an unanswered probe with ping-reqs and one direct ping over the reliable stream', () => {
    const { m, peer } = setup();
    const [a, b, c] = [peer(), peer(), peer()];
    m.applyGossip([a, b, c], 0);
    let pinged: { to: NodeId; probeSeq: number } | undefined;
    const fallbacks: MembershipOutput[] = [];
    const reqs: MembershipOutput[] = [];
    for (let now = 0; now <= LOCAL.probeIntervalMs && fallbacks.length === 0; now += 10) {
      for (const o of m.tick(now)) {
        if (o.type !== 'send') continue;
        if (o.message.kind === 'ping' && o.reliable === true) fallbacks.push(o);
        else if (o.message.kind === 'ping' && pinged === undefined) pinged = { to: o.to, probeSeq: o.message.probeSeq };
        else if (o.message.kind === 'ping-req') reqs.push(o);
      }
    }
    expect(pinged).toBeDefined();
    expect(fallbacks).toEqual([{ type: 'send', to: pinged!.to, message: { kind: 'ping', probeSeq: pinged!.probeSeq, target: pinged!.to }, reliable: true }]);
    expect(reqs.length).toBeGreaterThan(0);
    // The ack of the reliable ping (same probe) clears the probe: no suspicion follows.
    const out = m.handleProbe(pinged!.to, { kind: 'ack', probeSeq: pinged!.probeSeq, target: pinged!.to }, LOCAL.probeTimeoutMs + 20);
    expect(statuses([...out, ...m.tick(LOCAL.probeIntervalMs * 2)])).toEqual([]);
    expect(m.get(pinged!.to)?.status).toBe('alive');
  });
});
