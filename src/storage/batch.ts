import { ChorusError, ErrorCode, isChorusError } from '../core/errors.ts';
import { isNodeId, objectIdProblem, type NodeId } from '../core/ids.ts';
import { measureJson, type JsonLimits } from '../core/json.ts';
import { memberProblem } from '../membership/freshness.ts';
import type { MemberRecord } from '../membership/member.ts';
import { checkRecord, fieldNameProblem, OBJECT_FIELD, type StoreRecord } from '../store/record.ts';
import type { JournalEntry } from '../store/store.ts';
import type { StorageBatch } from './storage-adapter.ts';

/**
 * Limits applied to values on their way into storage. The store enforces its own (tighter,
 * configurable) limits on writes; storage only guards against values that could not be
 * encoded or would blow the decoder's stack, so it accepts whatever a store may be set to take.
 */
export const STORAGE_JSON_LIMITS: JsonLimits = { maxDepth: 512, maxBytes: Number.MAX_SAFE_INTEGER };

/** Longest meta key accepted. */
export const MAX_META_KEY_LENGTH = 256;

// With the u flag a surrogate class matches only unpaired surrogates, which UTF-8 (and so
// SQLite TEXT) cannot hold: they would come back as U+FFFD, a different key.
const LONE_SURROGATE_RE = /[\uD800-\uDFFF]/u;

function invalid(where: string, problem: string): ChorusError {
  return new ChorusError(ErrorCode.InvalidStorageBatch, `storage batch ${where}: ${problem}`);
}

function keyProblem(s: string, what: string): string | undefined {
  return LONE_SURROGATE_RE.test(s) ? `${what} contains an unpaired surrogate, which storage cannot hold exactly` : undefined;
}

function journalEntryProblem(e: JournalEntry): string | undefined {
  if (typeof e !== 'object' || e === null) return 'entry is not an object';
  if (e.op === 'put') {
    try {
      checkRecord(e.record, STORAGE_JSON_LIMITS);
    } catch (err) {
      if (!isChorusError(err)) throw err;
      return `${err.message} (${err.code})`;
    }
    return keyProblem(e.record.objectId, 'object id') ?? keyProblem(e.record.field, 'field name');
  }
  if (e.op === 'drop') {
    const idProblem = objectIdProblem(e.objectId);
    if (idProblem !== undefined) return idProblem;
    if (e.field !== OBJECT_FIELD) {
      const fieldProblem = fieldNameProblem(e.field);
      if (fieldProblem !== undefined) return fieldProblem;
    }
    return keyProblem(e.objectId, 'object id') ?? keyProblem(e.field, 'field name');
  }
  return `unknown op ${JSON.stringify((e as { op?: unknown }).op)}`;
}

function metaProblem(key: string, value: unknown): string | undefined {
  if (key.length === 0 || key.length > MAX_META_KEY_LENGTH) return `meta key must be 1 to ${MAX_META_KEY_LENGTH} characters`;
  const k = keyProblem(key, 'meta key');
  if (k !== undefined || value === undefined) return k;
  try {
    measureJson(value, STORAGE_JSON_LIMITS, `meta ${JSON.stringify(key)}`);
  } catch (err) {
    if (!isChorusError(err)) throw err;
    return `${err.message} (${err.code})`;
  }
  return undefined;
}

/**
 * Throws CHORUS_INVALID_STORAGE_BATCH naming the first entry that storage must refuse: a
 * record `Store.load` would reject, a drop of an impossible register, a watermark that is not
 * a non-negative integer, a meta value that is not JSON, or a malformed member record.
 * Adapters call it before touching anything, so an invalid batch applies nothing.
 */
export function validateBatch(batch: StorageBatch): void {
  if (typeof batch !== 'object' || batch === null) throw invalid('', 'batch must be an object');
  const { journal, watermarks, setWatermarks, meta, members } = batch;
  if (journal !== undefined) {
    if (!Array.isArray(journal)) throw invalid('journal', 'must be an array');
    journal.forEach((e: JournalEntry, i) => {
      const problem = journalEntryProblem(e);
      if (problem !== undefined) throw invalid(`journal[${i}]`, problem);
    });
  }
  for (const [name, marks] of [['watermarks', watermarks], ['setWatermarks', setWatermarks]] as const) {
    for (const [origin, seq] of Object.entries(marks ?? {})) {
      if (!isNodeId(origin)) throw invalid(name, `${JSON.stringify(origin)} is not a node id`);
      if (!Number.isSafeInteger(seq) || seq < 0) throw invalid(`${name}[${origin}]`, `${String(seq)} is not a non-negative integer`);
    }
  }
  if (meta !== undefined) {
    for (const [key, value] of Object.entries(meta)) {
      const problem = metaProblem(key, value);
      if (problem !== undefined) throw invalid(`meta[${JSON.stringify(key)}]`, problem);
    }
  }
  if (members !== undefined) {
    (members.put ?? []).forEach((m, i) => {
      const problem = memberProblem(m);
      if (problem !== undefined) throw invalid(`members.put[${i}]`, problem);
    });
    (members.remove ?? []).forEach((id, i) => {
      if (!isNodeId(id)) throw invalid(`members.remove[${i}]`, `${JSON.stringify(id)} is not a node id`);
    });
  }
}

/**
 * How much a batch weighs for group-commit sizing: one per journal entry, meta key and member
 * change (at least one). Watermarks are free: merged, they collapse to one row per origin.
 */
export function batchEntries(batch: StorageBatch): number {
  const n = (batch.journal?.length ?? 0) + Object.keys(batch.meta ?? {}).length + (batch.members?.put?.length ?? 0) + (batch.members?.remove?.length ?? 0);
  return Math.max(1, n);
}

/**
 * One batch with the effect of applying `batches` in order: journals concatenated,
 * watermarks max-merged (a set watermark restarting the merge), meta and member changes
 * taking the last word per key.
 */
export function mergeBatches(batches: readonly StorageBatch[]): StorageBatch {
  if (batches.length === 1) return batches[0] as StorageBatch;
  const journal: JournalEntry[] = [];
  const watermarks = new Map<string, number>();
  const set = new Map<string, number>();
  const meta = new Map<string, unknown>();
  const members = new Map<NodeId, MemberRecord | null>();
  for (const b of batches) {
    if (b.journal !== undefined) for (const e of b.journal) journal.push(e);
    for (const [origin, seq] of Object.entries(b.setWatermarks ?? {})) {
      set.set(origin, seq);
      watermarks.delete(origin);
    }
    for (const [origin, seq] of Object.entries(b.watermarks ?? {})) watermarks.set(origin, Math.max(seq, watermarks.get(origin) ?? seq));
    for (const [key, value] of Object.entries(b.meta ?? {})) meta.set(key, value);
    for (const m of b.members?.put ?? []) members.set(m.nodeId, m);
    for (const id of b.members?.remove ?? []) members.set(id, null);
  }
  const out: StorageBatch = {};
  if (journal.length > 0) out.journal = journal;
  if (set.size > 0) out.setWatermarks = Object.fromEntries(set);
  if (watermarks.size > 0) out.watermarks = Object.fromEntries(watermarks);
  if (meta.size > 0) out.meta = Object.fromEntries(meta);
  if (members.size > 0) {
    const put: MemberRecord[] = [];
    const remove: NodeId[] = [];
    for (const [id, m] of members) {
      if (m === null) remove.push(id);
      else put.push(m);
    }
    out.members = { put, remove };
  }
  return out;
}

/** Orders records as `load()` returns them: by object id, then field. */
export function compareRegisters(a: Pick<StoreRecord, 'objectId' | 'field'>, b: Pick<StoreRecord, 'objectId' | 'field'>): number {
  if (a.objectId !== b.objectId) return a.objectId < b.objectId ? -1 : 1;
  return a.field < b.field ? -1 : a.field > b.field ? 1 : 0;
}
