import { randomInt, type Random } from '../core/random.ts';
import type { WriteOp } from '../sync/engine.ts';

/** The random client writes of a run. */
export interface Workload {
  /** Mean virtual ms between client writes (anywhere in the mesh) until healing. */
  readonly writeEveryMs: number;
  /** Distinct objects written to (`obj-0` … `obj-{n−1}`): every node writes the same ids. */
  readonly objects: number;
  /** Share of writes that delete a whole object. */
  readonly deleteObjectShare: number;
}

/** Defaults: ten writes a second over 24 objects, one in twelve a whole-object delete. */
export const DEFAULT_WORKLOAD: Workload = { writeEveryMs: 100, objects: 24, deleteObjectShare: 0.08 };

const FIELDS = ['on', 'level', 'location'] as const;

/** One random write by node `by` at virtual time `nowMs`: mostly patches, some puts, field and object deletes. */
export function randomOp(random: Random, w: Workload, by: number, nowMs: number): WriteOp {
  const id = `obj-${randomInt(random, w.objects)}`;
  const field = FIELDS[randomInt(random, FIELDS.length)] as string;
  const r = random.next();
  const value = { v: randomInt(random, 1000), by, at: Math.round(nowMs) };
  if (r < w.deleteObjectShare) return { kind: 'deleteObject', id };
  // The rest keeps the historical mix: 70 patches, 10 puts, 12 field deletes.
  const rest = ((r - w.deleteObjectShare) / (1 - w.deleteObjectShare)) * 92;
  if (rest < 70) return { kind: 'patch', id, fields: { [field]: value } };
  if (rest < 80) return { kind: 'put', id, fields: { [field]: value } };
  return { kind: 'deleteField', id, field };
}
