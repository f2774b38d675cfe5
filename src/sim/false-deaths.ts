import { suspicionBounds } from '../membership/suspicion.ts';
import type { MembershipConfig } from '../membership/config.ts';
import type { SimNetwork } from './network.ts';
import type { SimNode } from './sim-node.ts';

/**
 * How long after a heal (or a subject's restart or resume) a 'dead' declaration may still be
 * the honest end of a suspicion begun under the fault: the longest suspicion for the mesh size
 * (an unconfirmed one, Lifeguard's max timeout, suspicionBounds(config, n).maxMs) plus one
 * probe interval (a probe begun before the heal may fail just after it and only then start the
 * suspicion). Past it, every suspicion running began on a healed network.
 */
export function falseDeathWindowMs(config: MembershipConfig, nodes: number): number {
  return suspicionBounds(config, nodes).maxMs + config.probeIntervalMs;
}

/** One 'dead' declaration as seen by the simulator. */
export interface DeadDeclaration {
  readonly observer: number;
  readonly subject: number | undefined;
  readonly generation: number;
  readonly atMs: number;
  readonly falseDeath: boolean;
}

/**
 * Judges 'dead' declarations. One is false when, at that moment, the subject is running, not
 * paused, reachable both ways from the observer (a probe needs the round trip), the declared
 * record's generation is the subject's current one (news about a previous life is not false),
 * and either the scenario only loses, duplicates or delays messages (then at any time), or the
 * moment is past the window (falseDeathWindowMs) after the later of the heal, the subject's
 * start of this life and its last resume.
 */
export class FalseDeathJudge {
  readonly declarations: DeadDeclaration[] = [];
  count = 0;

  constructor(
    private readonly net: SimNetwork,
    private readonly opts: { readonly lossOnly: boolean; readonly healAtMs: number; readonly windowMs: number },
  ) {}

  /** Judges and records a declaration by `observer` that `subject` (undefined: not a simulated node) is dead. */
  judge(observer: SimNode, subject: SimNode | undefined, generation: number, nowMs: number): boolean {
    const falseDeath = subject !== undefined && this.isFalse(observer, subject, generation, nowMs);
    if (falseDeath) this.count++;
    this.declarations.push({ observer: observer.index, subject: subject?.index, generation, atMs: nowMs, falseDeath });
    return falseDeath;
  }

  private isFalse(observer: SimNode, subject: SimNode, generation: number, nowMs: number): boolean {
    const life = subject.life;
    if (life === undefined || subject.paused(nowMs) || generation !== life.generation) return false;
    if (!this.net.reachable(observer.index, subject.index) || !this.net.reachable(subject.index, observer.index)) return false;
    if (this.opts.lossOnly) return true;
    const from = Math.max(this.opts.healAtMs, life.startedAt, subject.resumedAt) + this.opts.windowMs;
    return nowMs >= from;
  }
}
