// switchboard users create|list|rename|destroy (alias: user)

import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { Runner } from '../runner.js';
import { parseSignedId } from '../flags.js';
import { formatTime, renderTable } from '../output.js';
import { confirm } from '../prompt.js';
import type { AdminClient } from '../client.js';
import type { User } from '../../gen/headscale/v1/user_pb.js';

interface Selector {
  identifier?: number;
  name?: string;
}

function addSelector(cmd: Command): Command {
  return cmd
    .option('-i, --identifier <id>', 'User identifier (ID)', parseSignedId, -1)
    .option('-n, --name <name>', 'Username');
}

/** Finds the one user named by --name or --identifier. */
async function selectUser(client: AdminClient, sel: Selector): Promise<User> {
  const id = sel.identifier ?? -1;
  if (!sel.name && id < 0) throw new Error('--name or --identifier flag is required');
  const { users } = await client.listUsers({ name: sel.name ?? '', id: BigInt(Math.max(id, 0)) });
  const matching = users.filter((u) => (sel.name ? u.name === sel.name : true) && (id >= 0 ? u.id === BigInt(id) : true));
  if (matching.length === 0) throw new Error('user not found');
  if (matching.length > 1) throw new Error('multiple users match query, specify an ID');
  return matching[0] as User;
}

export function registerUsers(program: Command, ctx: CliContext, run: Runner): void {
  const users = program.command('users').alias('user').description('Manage the users of Switchboard');

  users
    .command('create')
    .argument('<NAME>', 'username')
    .aliases(['c', 'new'])
    .description('Creates a new user')
    .option('-d, --display-name <name>', 'Display name')
    .option('-e, --email <email>', 'Email')
    .option('-p, --picture-url <url>', 'Profile picture URL')
    .action(
      run(async (name: string, opts: { displayName?: string; email?: string; pictureUrl?: string }) => {
        const res = await ctx.call('creating user', (c) =>
          c.createUser({ name, displayName: opts.displayName ?? '', email: opts.email ?? '', pictureUrl: opts.pictureUrl ?? '' }),
        );
        ctx.print(res.user, 'User created');
      }),
    );

  users
    .command('list')
    .aliases(['ls', 'show'])
    .description('List all the users')
    .option('-i, --identifier <id>', 'User identifier (ID)', parseSignedId, -1)
    .option('-n, --name <name>', 'Username')
    .option('-e, --email <email>', 'Email')
    .action(
      run(async (opts: { identifier: number; name?: string; email?: string }) => {
        const res = await ctx.call('listing users', (c) =>
          c.listUsers({ id: BigInt(Math.max(opts.identifier, 0)), name: opts.name ?? '', email: opts.email ?? '' }),
        );
        ctx.printList(res.users, () =>
          renderTable([
            ['ID', 'Name', 'Username', 'Email', 'Created'],
            ...res.users.map((u) => [
              String(u.id),
              u.displayName,
              u.name,
              u.email,
              u.createdAt ? formatTime(new Date(Number(u.createdAt.seconds) * 1000)) : '',
            ]),
          ]),
        );
      }),
    );

  addSelector(users.command('destroy').alias('delete').description('Destroys a user and its pre-auth keys'))
    .action(
      run(async (opts: Selector) => {
        const user = await ctx.call('listing users', (c) => selectUser(c, opts));
        const ok = ctx.force || (await confirm(`Do you want to remove the user "${user.name}" (${user.id}) and any associated preauthkeys?`));
        if (!ok) return ctx.print({ Result: 'User not destroyed' }, 'User not destroyed');
        const res = await ctx.call('destroying user', (c) => c.deleteUser({ id: user.id }));
        ctx.print(res, 'User destroyed');
      }),
    );

  addSelector(users.command('rename').alias('mv').description('Renames a user'))
    .requiredOption('-r, --new-name <name>', 'New username')
    .action(
      run(async (opts: Selector & { newName: string }) => {
        const user = await ctx.call('listing users', (c) => selectUser(c, opts));
        const res = await ctx.call('renaming user', (c) => c.renameUser({ oldId: user.id, newName: opts.newName }));
        ctx.print(res.user, 'User renamed');
      }),
    );
}
