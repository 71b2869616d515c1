// switchboard apikeys create|list|expire|delete (aliases: apikey, api)

import type { Command } from 'commander';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { CliContext } from '../context.js';
import type { Runner } from '../runner.js';
import { expirationFromNow, parseId } from '../flags.js';
import { colourTime, formatTime, renderTable } from '../output.js';

interface KeyRef {
  prefix?: string;
  id: bigint;
}

function keyRef(opts: KeyRef): { prefix: string; id: bigint } {
  if (!opts.prefix && opts.id === 0n) throw new Error('either --id or --prefix must be provided');
  if (opts.prefix && opts.id !== 0n) throw new Error('only one of --id or --prefix can be provided');
  return { prefix: opts.prefix ?? '', id: opts.id };
}

export function registerApiKeys(program: Command, ctx: CliContext, run: Runner): void {
  const keys = program.command('apikeys').aliases(['apikey', 'api']).description('Handle the API keys of the admin API');

  keys
    .command('list')
    .aliases(['ls', 'show'])
    .description('List the API keys')
    .action(
      run(async () => {
        const res = await ctx.call('listing api keys', (c) => c.listApiKeys({}));
        ctx.printList(res.apiKeys, () =>
          renderTable([
            ['ID', 'Prefix', 'Expiration', 'Created'],
            ...res.apiKeys.map((k) => [
              String(k.id),
              k.prefix,
              k.expiration ? colourTime(timestampDate(k.expiration)) : '-',
              k.createdAt ? formatTime(timestampDate(k.createdAt)) : '',
            ]),
          ]),
        );
      }),
    );

  keys
    .command('create')
    .aliases(['c', 'new'])
    .description('Creates a new API key; it is shown only once')
    .option('-e, --expiration <duration>', 'Human-readable expiration of the key (e.g. 30m, 24h, 90d)', '90d')
    .action(
      run(async (opts: { expiration: string }) => {
        const expiration = expirationFromNow(opts.expiration);
        const res = await ctx.call('creating api key', (c) => c.createApiKey({ expiration }));
        ctx.print(res.apiKey, res.apiKey);
      }),
    );

  for (const [name, aliases, verb, done] of [
    ['expire', ['revoke', 'exp', 'e'], 'expiring', 'Key expired'],
    ['delete', ['remove', 'del'], 'deleting', 'Key deleted'],
  ] as const) {
    keys
      .command(name)
      .aliases([...aliases])
      .description(`${name === 'expire' ? 'Expire' : 'Delete'} an API key`)
      .option('-p, --prefix <prefix>', 'ApiKey prefix')
      .option('-i, --id <id>', 'ApiKey ID', parseId, 0n)
      .action(
        run(async (opts: KeyRef) => {
          const ref = keyRef(opts);
          const res = await ctx.call<object>(`${verb} api key`, (c) => (name === 'expire' ? c.expireApiKey(ref) : c.deleteApiKey(ref)));
          ctx.print(res, done);
        }),
      );
  }
}
