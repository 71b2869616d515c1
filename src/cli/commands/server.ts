// Commands about the server itself: serve, configtest, dump-config, health, version,
// generate private-key.

import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { Runner } from '../runner.js';
import { dumpConfig } from '../../config/index.js';
import { Store } from '../../store/index.js';
import { databaseOptions, startServer } from '../../app.js';
import { formatKey, generatePrivateKey } from '../../crypto/keys.js';
import { VERSION, versionInfo } from '../../version.js';

export function registerServerCommands(program: Command, ctx: CliContext, run: Runner): void {
  program
    .command('serve')
    .description('Launches the Switchboard server')
    .action(
      run(async () => {
        const server = await startServer(ctx.config());
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            server.logger.info('shutting down', { signal });
            server.close().then(resolve, resolve);
          };
          process.once('SIGINT', () => stop('SIGINT'));
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.on('SIGHUP', () => server.reloadPolicy());
        });
      }),
    );

  program
    .command('configtest')
    .description('Test the configuration: parse it, validate it and reach the database')
    .action(
      run(async () => {
        const config = ctx.config();
        await Store.check(databaseOptions(config), VERSION);
        ctx.print({ result: 'ok' }, 'Configuration is valid and the database is reachable');
      }),
    );

  program
    .command('dump-config')
    .alias('dumpConfig')
    .description('Print the effective configuration, with secrets masked')
    .action(
      run(async () => {
        ctx.write(dumpConfig(ctx.config()).trimEnd());
      }),
    );

  program
    .command('health')
    .description('Check the health of the running server; exit code 0 when healthy, 1 otherwise')
    .action(
      run(async () => {
        const res = await ctx.call('checking health', (c) => c.health({}));
        ctx.print(res, `database connectivity: ${res.databaseConnectivity ? 'ok' : 'FAILED'}`);
        if (!res.databaseConnectivity) ctx.exitCode = 1;
      }),
    );

  program
    .command('version')
    .description('Print the version')
    .action(
      run(async () => {
        const info = versionInfo();
        ctx.print(info, `switchboard ${info.version} (node ${info.node.version}, ${info.node.os}/${info.node.arch})`);
      }),
    );

  const generate = program.command('generate').alias('gen').description('Generate keys and secrets');
  generate
    .command('private-key')
    .description('Generate a private key for the Switchboard server')
    .action(
      run(async () => {
        const key = formatKey('privkey', generatePrivateKey());
        ctx.print({ private_key: key }, key);
      }),
    );
}
