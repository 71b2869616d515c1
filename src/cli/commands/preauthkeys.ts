// switchboard preauthkeys create|list|expire|delete (aliases: preauthkey, authkey, pre)

import type { Command } from 'commander';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { CliContext } from '../context.js';
import type { Runner } from '../runner.js';
import { collectList, expirationFromNow, parseId } from '../flags.js';
import { colourTime, formatTime, renderTable } from '../output.js';

export function registerPreAuthKeys(program: Command, ctx: CliContext, run: Runner): void {
  const keys = program
    .command('preauthkeys')
    .aliases(['preauthkey', 'authkey', 'pre'])
    .description('Handle the pre-auth keys nodes register with');

  keys
    .command('list')
    .aliases(['ls', 'show'])
    .description('List all pre-auth keys')
    .action(
      run(async () => {
        const res = await ctx.call('listing preauthkeys', (c) => c.listPreAuthKeys({}));
        ctx.printList(res.preAuthKeys, () =>
          renderTable([
            ['ID', 'Key/Prefix', 'Reusable', 'Ephemeral', 'Used', 'Expiration', 'Created', 'Owner'],
            ...res.preAuthKeys.map((k) => [
              String(k.id),
              k.key,
              String(k.reusable),
              String(k.ephemeral),
              String(k.used),
              k.expiration ? colourTime(timestampDate(k.expiration)) : '-',
              k.createdAt ? formatTime(timestampDate(k.createdAt)) : '',
              k.aclTags.length > 0 ? k.aclTags.join('\n') : (k.user?.name ?? '-'),
            ]),
          ]),
        );
      }),
    );

  keys
    .command('create')
    .aliases(['c', 'new'])
    .description('Creates a new pre-auth key')
    .option('-u, --user <id>', 'User identifier (ID)', parseId, 0n)
    .option('--reusable', 'Make the key reusable', false)
    .option('--ephemeral', 'Preauthkey for ephemeral nodes', false)
    .option('-e, --expiration <duration>', 'Human-readable expiration of the key (e.g. 30m, 24h)', '1h')
    .option('--tags <tags>', 'Tags to automatically assign to node (comma-separated, repeatable)', collectList)
    .action(
      run(async (opts: { user: bigint; reusable: boolean; ephemeral: boolean; expiration: string; tags?: string[] }) => {
        const expiration = expirationFromNow(opts.expiration);
        const res = await ctx.call('creating preauthkey', (c) =>
          c.createPreAuthKey({
            user: opts.user,
            reusable: opts.reusable,
            ephemeral: opts.ephemeral,
            expiration,
            aclTags: opts.tags ?? [],
          }),
        );
        ctx.print(res.preAuthKey, res.preAuthKey?.key ?? '');
      }),
    );

  for (const [name, aliases, verb, done] of [
    ['expire', ['revoke', 'exp', 'e'], 'expiring', 'Key expired'],
    ['delete', ['del', 'rm', 'd'], 'deleting', 'Key deleted'],
  ] as const) {
    keys
      .command(name)
      .aliases([...aliases])
      .description(`${name === 'expire' ? 'Expire' : 'Delete'} a pre-auth key`)
      .option('-i, --id <id>', 'Authkey ID', parseId, 0n)
      .action(
        run(async (opts: { id: bigint }) => {
          if (opts.id === 0n) throw new Error('missing --id parameter');
          const res = await ctx.call<object>(`${verb} preauthkey`, (c) =>
            name === 'expire' ? c.expirePreAuthKey({ id: opts.id }) : c.deletePreAuthKey({ id: opts.id }),
          );
          ctx.print(res, done);
        }),
      );
  }
}
