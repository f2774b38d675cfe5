// The sync core's public face: import from here.
export { digestSum, memberFingerprint, MAX_EXCHANGE_ROUNDS } from './anti-entropy.ts';
export { membershipConfigOf, resolveSyncConfig, scaledSyncIntervalMs, SYNC_PRESETS, SYNC_SCALE_THRESHOLD, validateSyncConfig, type SyncConfig, type SyncPreset } from './config.ts';
export { Engine, type EngineInit, type WriteOp } from './engine.ts';
export type { Channel, EngineEvent, Outbound } from './events.ts';
export { MAX_REFUSED, negotiateVersion, seedBackoffMs } from './handshake.ts';
export * from './messages.ts';
export { splitBatches } from './push.ts';
export { coversFrom, minDigest } from './snapshot.ts';
export { VALIDATION_REASONS, validateMessage, type ValidationResult } from './validate.ts';
export { WIRE_LIMITS } from './validate-fields.ts';
export { decodeMessage, encodeMessage, Undecodable } from './wire.ts';
