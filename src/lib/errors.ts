// The error catalogue: every failure Switchboard reports on purpose has a code from this closed
// set, a short message that says what and where, and optionally the underlying `cause`.
// The admin service maps each code's `kind` to a gRPC status; the CLI prints the message alone.
// docs/errors.md lists the same codes; a test keeps the two in step.

/** What sort of failure a code is; decides the gRPC status and HTTP status it becomes. */
export type ErrorKind =
  | 'invalid' // the caller sent something malformed or out of range
  | 'not_found' // the thing named does not exist
  | 'conflict' // it exists already, or the state forbids the change
  | 'unauthenticated' // missing or wrong credentials
  | 'denied' // authenticated but not allowed
  | 'unavailable' // a dependency (database, socket) cannot be reached
  | 'internal'; // a bug or an unexpected failure

export const ERROR_CODES = {
  ERR_CONFIG_INVALID: 'invalid',
  ERR_CONFIG_NOT_FOUND: 'not_found',
  ERR_DB_UNREACHABLE: 'unavailable',
  ERR_DB_TOO_NEW: 'conflict',
  ERR_DB_MIGRATION: 'internal',
  ERR_USER_INVALID_NAME: 'invalid',
  ERR_USER_EXISTS: 'conflict',
  ERR_USER_NOT_FOUND: 'not_found',
  ERR_USER_HAS_NODES: 'conflict',
  ERR_NODE_NOT_FOUND: 'not_found',
  ERR_NODE_INVALID_NAME: 'invalid',
  ERR_NODE_INVALID_TAGS: 'invalid',
  ERR_AUTHKEY_INVALID: 'invalid',
  ERR_AUTHKEY_NOT_FOUND: 'not_found',
  ERR_AUTHKEY_EXPIRED: 'denied',
  ERR_AUTHKEY_USED: 'denied',
  ERR_APIKEY_INVALID: 'invalid',
  ERR_APIKEY_NOT_FOUND: 'not_found',
  ERR_APIKEY_EXPIRED: 'unauthenticated',
  ERR_POLICY_INVALID: 'invalid',
  ERR_ARGUMENT: 'invalid',
  ERR_ADMIN_SOCKET: 'unavailable',
  ERR_INTERNAL: 'internal',
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class SwitchboardError extends Error {
  readonly code: ErrorCode;
  override readonly name = 'SwitchboardError';

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  get kind(): ErrorKind {
    return ERROR_CODES[this.code];
  }
}

export function isSwitchboardError(err: unknown, code?: ErrorCode): err is SwitchboardError {
  return err instanceof SwitchboardError && (code === undefined || err.code === code);
}

/** A message fit for one line of output, whatever was thrown. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
