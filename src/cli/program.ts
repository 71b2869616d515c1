// The `switchboard` command tree, with headscale 0.29's verbs, flags and aliases.

import { Command } from 'commander';
import { CliContext, type GlobalFlags } from './context.js';
import { createRunner } from './runner.js';
import { registerUsers } from './commands/users.js';
import { registerPreAuthKeys } from './commands/preauthkeys.js';
import { registerApiKeys } from './commands/apikeys.js';
import { registerNodes } from './commands/nodes.js';
import { registerServerCommands } from './commands/server.js';
import { registerAuth } from './commands/auth.js';
import { registerPolicy } from './commands/policy.js';
import { registerDebug } from './commands/debug.js';
import { VERSION } from '../version.js';

export function buildProgram(io?: { out?: (t: string) => void; err?: (t: string) => void }): { program: Command; ctx: CliContext } {
  const program = new Command('switchboard');
  const ctx = new CliContext(() => program.opts<GlobalFlags>(), io);
  const run = createRunner(ctx);
  program
    .description('switchboard - a self-hosted Tailscale control server, compatible with headscale')
    .version(VERSION, '--version', 'print the version')
    .option('-c, --config <path>', 'configuration file (default: ./config.yaml, then /etc/switchboard/config.yaml)')
    .option('-o, --output <format>', "output format: empty for human-readable, 'json', 'json-line' or 'yaml'")
    .option('--force', 'disable prompts and force the execution', false)
    .option('--insecure', 'with cli.address: do not verify the server certificate (same as cli.insecure)', false)
    // Errors throw a CommanderError instead of exiting; set before the subcommands inherit it.
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => (io?.out ?? ((t) => process.stdout.write(t + '\n')))(s.trimEnd()),
      writeErr: (s) => (io?.err ?? ((t) => process.stderr.write(t + '\n')))(s.trimEnd()),
    });
  registerServerCommands(program, ctx, run);
  registerUsers(program, ctx, run);
  registerNodes(program, ctx, run);
  registerPreAuthKeys(program, ctx, run);
  registerApiKeys(program, ctx, run);
  registerAuth(program, ctx, run);
  registerPolicy(program, ctx, run);
  registerDebug(program, ctx, run);
  return { program, ctx };
}
