import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/core/ids.ts';
import { checkOutcome } from '../../src/sim/checkers.ts';
import { pushedBeforeCommit, semanticProblems } from '../../src/sim/invariants.ts';
import { MessageType, type Message } from '../../src/sync/messages.ts';
import { scenarioByName, type Scenario } from '../../src/sim/scenarios.ts';
import { Simulation, type SimOptions } from '../../src/sim/simulation.ts';
import { recordToTuple, TOMBSTONE } from '../../src/store/index.ts';

const scenario = (name: string): Scenario => scenarioByName(name) as Scenario;

/** A short steady run: a mesh of `nodes` writing for 8 s, healed at 8 s. */
function shortRun(nodes: number, extra: Partial<SimOptions> = {}): Simulation {
  const sim = new Simulation({ nodes, seed: 17, scenario: scenario('steady'), warmupMs: 5000, faultMs: 3000, settleMaxMs: 30_000, trace: false, ...extra });
  sim.run();
  return sim;
}

describe('the checkers see what they claim to (negative controls)', () => {
  it('a clean run passes every check', () => {
    const sim = shortRun(3);
    const o = checkOutcome(sim);
    expect(o).toMatchObject({ converged: true, lostAckedWrites: 0, resurrections: 0, falseDeaths: 0, invariantViolations: 0, membershipCorrect: true });
    for (const node of sim.nodes) expect(semanticProblems(node, sim.oracle)).toEqual([]);
  });

  it('a replica that silently drops acknowledged records loses writes and breaks the semantic invariant', () => {
    const sim = shortRun(3);
    const node = sim.nodes[1];
    const victim = sim.acked.find((r) => r.value !== TOMBSTONE && node?.store?.get(r.objectId) !== undefined);
    expect(victim).toBeDefined();
    // Drops the victim's registers without a trace: confirmed is false only for them, and every record counts as seen and old.
    node?.store?.reconcileStale((r) => r.objectId !== victim?.objectId, node.store.digest(), { ms: 0, lc: 0 }, { ms: Number.MAX_SAFE_INTEGER, lc: 0 });
    const o = checkOutcome(sim);
    expect(o.lostAckedWrites).toBeGreaterThan(0);
    expect(o.converged).toBe(false);
    expect(semanticProblems(node as NonNullable<typeof node>, sim.oracle).join('\n')).toMatch(/neither held, superseded nor reported dropped/);
  });

  it('a record the oracle never saw created is a resurrection, not part of the expected state', () => {
    const sim = shortRun(3);
    const origin = sim.nodes[2]?.nodeId as NodeId;
    sim.nodes[0]?.store?.merge([{ objectId: 'ghost', field: 'x', value: 1, ts: { ms: 1_700_000_000_000, lc: 0 }, origin, seq: 1_000_000 }]);
    const o = checkOutcome(sim);
    expect(o.resurrections).toBe(1);
    expect(o.converged).toBe(false);
  });

  it('a record reported dropped as stale is counted apart, not lost, only within the horizon', () => {
    const sim = shortRun(3);
    const node = sim.nodes[1];
    const victim = sim.acked.find((r) => r.value !== TOMBSTONE && node?.store?.get(r.objectId) !== undefined);
    if (victim === undefined || node?.store === undefined) throw new Error('no victim');
    const lostBefore = checkOutcome(sim).lostAckedWrites;
    sim.oracle.dropped('stale', [victim], { ms: victim.ts.ms - 1, lc: 0 });
    expect(checkOutcome(sim).staleDropped).toBe(0);
    sim.oracle.dropped('stale', [victim], victim.ts);
    const o = checkOutcome(sim);
    expect(o.staleDropped).toBe(1);
    expect(o.lostAckedWrites).toBe(lostBefore);
  });

  it('counts own records an eager push carries before their commit', () => {
    const sim = new Simulation({ nodes: 2, seed: 3, scenario: scenario('steady'), clientWrites: false, trace: false });
    sim.startAll();
    sim.runUntil(3000);
    const node = sim.nodes[1] as NonNullable<(typeof sim.nodes)[1]>;
    const [rec] = sim.write(1, { kind: 'patch', id: 'x', fields: { v: 1 } });
    const push = { t: MessageType.PUSH, from: node.nodeId, hops: 0, records: [recordToTuple(rec as NonNullable<typeof rec>)] } as unknown as Message;
    expect(pushedBeforeCommit(node, push)).toBe(1);
    expect(pushedBeforeCommit(node, { ...push, hops: 1 } as Message)).toBe(0);
    sim.runUntil(3100);
    expect(pushedBeforeCommit(node, push)).toBe(0);
  });

  it('judges dead declarations: false only for a running, reachable node of that generation after the window', () => {
    const sim = new Simulation({ nodes: 3, seed: 5, scenario: scenario('isolate-1'), warmupMs: 5000, faultMs: 5000, trace: false });
    sim.startAll();
    sim.runUntil(4000);
    const [a, b] = sim.nodes as [NonNullable<(typeof sim.nodes)[0]>, NonNullable<(typeof sim.nodes)[0]>];
    const gen = b.life?.generation as number;
    const afterWindow = sim.faultEndMs + sim.falseDeathWindowMs;
    expect(sim.deaths.judge(a, b, gen, sim.faultEndMs + 1)).toBe(false);
    expect(sim.deaths.judge(a, b, gen - 1, afterWindow)).toBe(false);
    expect(sim.deaths.judge(a, b, gen, afterWindow)).toBe(true);
    sim.net.setSide(1, 1);
    sim.net.block(1, 0);
    expect(sim.deaths.judge(a, b, gen, afterWindow)).toBe(false);
    sim.net.heal();
    sim.crash(1);
    expect(sim.deaths.judge(a, b, gen, afterWindow)).toBe(false);
    expect(sim.deaths.count).toBe(1);
  });

  it('counts a false death at any time in a loss-only scenario', () => {
    const sim = new Simulation({ nodes: 2, seed: 5, scenario: scenario('loss-10'), trace: false });
    sim.startAll();
    sim.runUntil(1000);
    const [a, b] = sim.nodes as [NonNullable<(typeof sim.nodes)[0]>, NonNullable<(typeof sim.nodes)[0]>];
    expect(sim.deaths.judge(a, b, b.life?.generation as number, sim.now)).toBe(true);
  });
});

describe('restarts go through storage', () => {
  it('a write whose batch has not committed is not acknowledged, and a crash takes it away', () => {
    const sim = new Simulation({ nodes: 2, seed: 3, scenario: scenario('steady'), clientWrites: false, trace: false });
    sim.startAll();
    sim.runUntil(3000);
    const [rec] = sim.write(1, { kind: 'patch', id: 'x', fields: { v: 1 } });
    expect(sim.acked).toEqual([]);
    sim.crash(1);
    sim.runUntil(3100);
    expect(sim.acked).toEqual([]);
    expect(sim.oracle.isRetracted(rec as NonNullable<typeof rec>)).toBe(true);
    sim.boot(1);
    expect(sim.nodes[1]?.life?.generation).toBe(2);
    expect(sim.nodes[1]?.store?.get('x')).toBeUndefined();
  });

  it('a committed write survives a crash and is pushed only after its commit', () => {
    const pushedAt: number[] = [];
    const sim = new Simulation({
      nodes: 2,
      seed: 3,
      scenario: scenario('steady'),
      clientWrites: false,
      trace: false,
      onEvent: (node, ev, now) => {
        if (node === 0 && ev.type === 'change' && ev.origin === 'remote') pushedAt.push(now);
      },
    });
    sim.startAll();
    sim.runUntil(3000);
    sim.write(1, { kind: 'patch', id: 'x', fields: { v: 1 } });
    sim.runUntil(3100);
    expect(sim.acked.length).toBe(1);
    expect(pushedAt.length).toBe(1);
    sim.crash(1);
    sim.boot(1);
    expect(sim.nodes[1]?.store?.get('x')).toEqual({ v: 1 });
    expect(sim.nodes[1]?.life?.generation).toBe(2);
  });

  it('a failing disk acknowledges nothing and stores nothing', () => {
    const sim = new Simulation({ nodes: 2, seed: 3, scenario: scenario('steady'), clientWrites: false, trace: false });
    sim.startAll();
    sim.runUntil(3000);
    const node = sim.nodes[1] as NonNullable<(typeof sim.nodes)[1]>;
    node.disk.failing = true;
    sim.write(1, { kind: 'patch', id: 'x', fields: { v: 1 } });
    sim.runUntil(3100);
    expect(sim.acked).toEqual([]);
    expect(node.disk.failedCommits).toBeGreaterThan(0);
    expect(node.disk.load().records.some((r) => r.objectId === 'x')).toBe(false);
  });
});
