// The executable's entry: parse argv, run the command, exit with its status.

import { CommanderError } from 'commander';
import { buildProgram } from './program.js';

const { program, ctx } = buildProgram();
try {
  await program.parseAsync(process.argv);
  process.exitCode = ctx.exitCode;
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  process.exitCode = err.exitCode;
}
