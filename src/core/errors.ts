/** Stable error codes; each names one rule that an input broke. Append, never renumber. */
export const ErrorCode = {
  InvalidObjectId: 'CHORUS_INVALID_OBJECT_ID',
  InvalidNodeId: 'CHORUS_INVALID_NODE_ID',
  InvalidFieldName: 'CHORUS_INVALID_FIELD_NAME',
  InvalidFields: 'CHORUS_INVALID_FIELDS',
  NotJson: 'CHORUS_VALUE_NOT_JSON',
  TooDeep: 'CHORUS_VALUE_TOO_DEEP',
  TooLarge: 'CHORUS_VALUE_TOO_LARGE',
  ClockDrift: 'CHORUS_CLOCK_DRIFT',
  MalformedRecord: 'CHORUS_MALFORMED_RECORD',
  InvalidConfig: 'CHORUS_INVALID_CONFIG',
  MalformedMessage: 'CHORUS_MALFORMED_MESSAGE',
  InvalidStorageBatch: 'CHORUS_INVALID_STORAGE_BATCH',
  StorageCorrupt: 'CHORUS_STORAGE_CORRUPT',
  StorageTooNew: 'CHORUS_STORAGE_TOO_NEW',
  StorageClosed: 'CHORUS_STORAGE_CLOSED',
  StorageFailed: 'CHORUS_STORAGE_FAILED',
  DataDirLocked: 'CHORUS_DATA_DIR_LOCKED',
  DataDirInvalid: 'CHORUS_DATA_DIR_INVALID',
  PortInUse: 'CHORUS_PORT_IN_USE',
  DiscoveryBind: 'CHORUS_DISCOVERY_BIND',
  KeyringInvalid: 'CHORUS_KEYRING_INVALID',
  KeyringNotFound: 'CHORUS_KEYRING_NOT_FOUND',
  InvalidKey: 'CHORUS_INVALID_KEY',
  KeyNotFound: 'CHORUS_KEY_NOT_FOUND',
  PrimaryKeyRemoval: 'CHORUS_PRIMARY_KEY_REMOVAL',
  FrameTooLarge: 'CHORUS_FRAME_TOO_LARGE',
  InvalidAddress: 'CHORUS_INVALID_ADDRESS',
  BadRequest: 'CHORUS_BAD_REQUEST',
  NotFound: 'CHORUS_NOT_FOUND',
  Conflict: 'CHORUS_CONFLICT',
  BodyTooLarge: 'CHORUS_BODY_TOO_LARGE',
  RateLimited: 'CHORUS_RATE_LIMITED',
  NotReady: 'CHORUS_NOT_READY',
  ShuttingDown: 'CHORUS_SHUTTING_DOWN',
  Unhealthy: 'CHORUS_UNHEALTHY',
  WriteConcernTimeout: 'CHORUS_WRITE_CONCERN_TIMEOUT',
  InvalidPeer: 'CHORUS_INVALID_PEER',
  Internal: 'CHORUS_INTERNAL',
  UnsupportedMediaType: 'CHORUS_UNSUPPORTED_MEDIA_TYPE',
  Unauthorized: 'CHORUS_UNAUTHORIZED',
  Forbidden: 'CHORUS_FORBIDDEN',
  TokenFileInvalid: 'CHORUS_TOKEN_FILE_INVALID',
  TokenNotFound: 'CHORUS_TOKEN_NOT_FOUND',
  InvalidTokenRequest: 'CHORUS_INVALID_TOKEN_REQUEST',
} as const;

/** One of the stable error codes. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error carrying a stable machine-readable code and a message naming what was wrong. */
export class ChorusError extends Error {
  override readonly name = 'ChorusError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** True when `e` is a ChorusError, optionally with the given code. */
export function isChorusError(e: unknown, code?: ErrorCode): e is ChorusError {
  return e instanceof ChorusError && (code === undefined || e.code === code);
}
