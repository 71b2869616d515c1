// switchboard debug create-node: a fake pending registration, completed with auth register.

import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { Runner } from '../runner.js';
import { collectList } from '../flags.js';

export function registerDebug(program: Command, ctx: CliContext, run: Runner): void {
  const debug = program.command('debug').description('debug and testing commands');
  debug
    .command('create-node')
    .description('Create a node that can be registered with `auth register <>` command')
    .requiredOption('--name <name>', 'Name')
    .requiredOption('-u, --user <name>', 'User')
    .requiredOption('-k, --key <id>', 'Key (an auth ID, hskey-authreq-...)')
    .option('-r, --route <routes>', 'Routes to advertise (comma-separated, repeatable)', collectList)
    .action(
      run(async (opts: { name: string; user: string; key: string; route?: string[] }) => {
        const res = await ctx.call('creating node', (c) =>
          c.debugCreateNode({ user: opts.user, key: opts.key, name: opts.name, routes: opts.route ?? [] }),
        );
        ctx.print(res.node, 'Node created');
      }),
    );
}
