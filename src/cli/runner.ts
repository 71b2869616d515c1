// Wraps a command's action: any error is printed once, in the requested format, and the
// command's exit code becomes 1.

import type { CliContext } from './context.js';

export type Runner = <A extends unknown[]>(fn: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;

export function createRunner(ctx: CliContext): Runner {
  return (fn) =>
    async (...args) => {
      try {
        await fn(...args);
      } catch (err) {
        ctx.error(err);
        ctx.exitCode = 1;
      }
    };
}
