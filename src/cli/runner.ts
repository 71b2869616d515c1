// Wraps a command's action: any error is printed once, in the requested format, and the
// process exits non-zero.

import type { CliContext } from './context.js';

export type Runner = <A extends unknown[]>(fn: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;

export function createRunner(ctx: CliContext): Runner {
  return (fn) =>
    async (...args) => {
      try {
        await fn(...args);
      } catch (err) {
        ctx.error(err);
        process.exitCode = 1;
      }
    };
}
