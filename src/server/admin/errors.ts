// Turns what a handler threw into a gRPC status. Our own errors keep their message (it was
// written for the admin); anything else becomes a bare "internal error" so no stack or driver
// detail leaks to the caller. The original goes to the log.

import { Code, ConnectError } from '@connectrpc/connect';
import { SwitchboardError, type ErrorKind } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';

const CODES: Record<ErrorKind, Code> = {
  invalid: Code.InvalidArgument,
  not_found: Code.NotFound,
  conflict: Code.FailedPrecondition,
  unauthenticated: Code.Unauthenticated,
  denied: Code.PermissionDenied,
  unavailable: Code.Unavailable,
  internal: Code.Internal,
};

export function toConnectError(err: unknown, logger: Logger, method: string): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof SwitchboardError) {
    if (err.kind === 'internal') logger.error('admin call failed', { method, code: err.code, error: err.message });
    const code = err.code === 'ERR_USER_EXISTS' ? Code.AlreadyExists : CODES[err.kind];
    return new ConnectError(err.message, code, undefined, undefined, err);
  }
  logger.error('admin call failed unexpectedly', { method, error: err instanceof Error ? err.stack : String(err) });
  return new ConnectError('internal error', Code.Internal);
}
