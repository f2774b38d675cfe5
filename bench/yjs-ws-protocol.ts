// Messages between the bench (bench/yjs-ws.ts) and the process holding Y.Doc B
// (bench/yjs-ws-child.ts). Binary messages are Yjs updates; these are the JSON text messages.

/** Commands the bench sends. */
export type YjsCommand =
  | { op: 'reset' } // a fresh, empty doc
  | { op: 'watch'; key: string | null } // reply `seen <v>` whenever this key changes
  | { op: 'expect'; size: number } // reply `size` once the map holds this many keys
  | { op: 'ackNext' } // reply `applied` after the next update is applied
  | { op: 'stateVector' } // reply with Y.encodeStateVector(B) as a binary message
  | { op: 'get'; keys: string[] }; // reply `values`

/** Replies to the bench. */
export type YjsReply =
  | { op: 'hello'; name: string; pid: number }
  | { op: 'reset' }
  | { op: 'size'; size: number }
  | { op: 'applied'; size: number; bytes: number }
  | { op: 'values'; values: unknown[] };
