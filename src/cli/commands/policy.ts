// switchboard policy get|set|check: the access policy (HuJSON) through the admin API.
// headscale's --bypass-grpc-and-access-database-directly is accepted and refused: Switchboard's
// CLI never opens the database itself.

import fs from 'node:fs';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { Runner } from '../runner.js';
import { compileForTopology } from '../../policy/index.js';

const BYPASS = '--bypass-grpc-and-access-database-directly';

function refuseBypass(opts: { bypassGrpcAndAccessDatabaseDirectly?: boolean }): void {
  if (opts.bypassGrpcAndAccessDatabaseDirectly) {
    throw new Error(`${BYPASS} is not supported by Switchboard: the CLI always goes through the server`);
  }
}

function readPolicyFile(file: string | undefined): string {
  if (!file) throw new Error('required flag "file" not set (-f/--file)');
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`reading policy file: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? `${file} does not exist` : (err as Error).message}`);
  }
}

export function registerPolicy(program: Command, ctx: CliContext, run: Runner): void {
  const policy = program.command('policy').description('Manage the Switchboard access policy');
  const bypass = (c: Command) => c.option(BYPASS, 'not supported: the CLI always goes through the server', false);

  bypass(policy.command('get').aliases(['show', 'view', 'fetch']).description('Print the current policy'))
    .action(
      run(async (opts: { bypassGrpcAndAccessDatabaseDirectly?: boolean }) => {
        refuseBypass(opts);
        const res = await ctx.call('loading ACL policy', (c) => c.getPolicy({}));
        ctx.write(res.policy);
      }),
    );

  bypass(policy.command('set').aliases(['put', 'update']).description('Update the policy (policy.mode: database)'))
    .option('-f, --file <path>', 'Path to a policy file in HuJSON format')
    .action(
      run(async (opts: { file?: string; bypassGrpcAndAccessDatabaseDirectly?: boolean }) => {
        refuseBypass(opts);
        const text = readPolicyFile(opts.file);
        await ctx.call('setting ACL policy', (c) => c.setPolicy({ policy: text }));
        ctx.write('Policy updated.');
      }),
    );

  bypass(policy.command('check').description('Check a policy file for errors'))
    .option('-f, --file <path>', 'Path to a policy file in HuJSON format')
    .action(
      run(async (opts: { file?: string; bypassGrpcAndAccessDatabaseDirectly?: boolean }) => {
        refuseBypass(opts);
        const text = readPolicyFile(opts.file);
        await ctx.call('checking ACL policy', (c) => c.checkPolicy({ policy: text }));
        ctx.write('Policy is valid');
      }),
    );

  policy
    .command('compile')
    .description('Compile a policy for a topology, offline: what each node would receive (use -o json)')
    .requiredOption('--file <path>', 'policy file (HuJSON)')
    .requiredOption('--topology <path>', 'topology JSON: {"users":[...],"nodes":[...]}')
    .action(
      run(async (opts: { file: string; topology: string }) => {
        const text = readPolicyFile(opts.file);
        let topology: unknown;
        try {
          topology = JSON.parse(fs.readFileSync(opts.topology, 'utf8'));
        } catch (err) {
          throw new Error(`reading topology ${opts.topology}: ${(err as Error).message}`);
        }
        const result = compileForTopology(text, topology);
        // Wire types exactly as clients receive them: plain JSON, whatever -o says.
        ctx.write(ctx.format === 'json-line' ? JSON.stringify(result) : JSON.stringify(result, null, 2));
      }),
    );
}
