import { ChorusError, ErrorCode } from '../core/errors.ts';
import type { Store, WriteResult } from './store.ts';

/** A local write as callers (API, engine, simulator) ask for it. */
export type WriteOp =
  | { kind: 'put'; id: string; fields: unknown }
  | { kind: 'patch'; id: string; fields: unknown }
  | { kind: 'deleteField'; id: string; field: string }
  | { kind: 'deleteObject'; id: string };

/** Applies a write to a store; throws the store's ChorusError on bad input. */
export function applyWrite(store: Store, op: WriteOp): WriteResult {
  switch (op.kind) {
    case 'put':
      return store.put(op.id, op.fields);
    case 'patch':
      return store.patch(op.id, op.fields);
    case 'deleteField':
      return store.deleteField(op.id, op.field);
    case 'deleteObject':
      return store.deleteObject(op.id);
    default:
      throw new ChorusError(ErrorCode.InvalidFields, `unknown write kind ${JSON.stringify((op as { kind?: unknown }).kind)}`);
  }
}
