/** Exit codes of the client commands; scripts rely on them, so never renumber. */
export const ExitCode = {
  Ok: 0,
  /** The node answered with an error, or something else failed at run time. */
  Failure: 1,
  /** Bad arguments, or the node refused the input as invalid (400, 413, 415). */
  Usage: 2,
  /** `get` or `rm` of an object that does not exist. */
  NotFound: 3,
  /** The node could not be reached (refused, unresolvable, timed out, no node.json). */
  Unreachable: 4,
  /** The node refused the token: missing, wrong, revoked (401) or lacking a scope (403). */
  Unauthorized: 5,
} as const;

/** One of the exit codes. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit-code table as `chorus help` prints it. */
export const EXIT_CODES_HELP = `
Exit codes (status, members, get, set, rm, ls, watch):
  0  ok
  1  runtime or server error (e.g. 409, 429, 500, 503, 504 write concern not met)
  2  usage error: bad arguments, or the node rejected the input as invalid (400, 413)
  3  not found: get or rm of an object that does not exist
  4  cannot reach the node (connection refused, no answer, no node.json in --data)
  5  unauthorized or forbidden: token missing, wrong, revoked or lacking a scope

The node is --url URL, or the url in DIR/node.json for --data DIR (default $CHORUS_DATA,
else ./chorus-data).
The token is --token or $CHORUS_TOKEN.`;

/** A failure a client command reports: its message goes to stderr, its code becomes the exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
  }
}

/** The exit code for an HTTP error status; 404 counts as not found only where the caller says so. */
export function exitCodeForStatus(status: number, notFoundMeansMissing = false): ExitCode {
  if (status === 401 || status === 403) return ExitCode.Unauthorized;
  if (status === 404) return notFoundMeansMissing ? ExitCode.NotFound : ExitCode.Failure;
  if (status === 400 || status === 413 || status === 415 || status === 422) return ExitCode.Usage;
  return ExitCode.Failure;
}
