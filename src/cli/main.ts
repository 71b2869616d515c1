// The executable's entry: parse argv, run the command, exit with its status.

import { buildProgram } from './program.js';

const program = buildProgram();
program.exitOverride((err) => {
  process.exit(err.exitCode);
});
await program.parseAsync(process.argv);
