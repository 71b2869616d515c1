// switchboard nodes list-routes|approve-routes|backfillips: the routes nodes announce, which of
// them an admin approved, which are served; and re-fitting node addresses to the prefixes.

import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { Runner } from '../runner.js';
import { collectList, parseId } from '../flags.js';
import { renderTable } from '../output.js';
import { confirm } from '../prompt.js';
import type { Node } from '../../gen/headscale/v1/node_pb.js';

export function routesTable(nodes: Node[]): string {
  return renderTable([
    ['ID', 'Hostname', 'Approved', 'Available', 'Serving (Primary)'],
    ...nodes.map((n) => [String(n.id), n.givenName, n.approvedRoutes.join('\n'), n.availableRoutes.join('\n'), n.subnetRoutes.join('\n')]),
  ]);
}

export function registerNodeRoutes(nodes: Command, ctx: CliContext, run: Runner): void {
  nodes
    .command('list-routes')
    .aliases(['lsr', 'routes'])
    .description('List routes available on nodes')
    .option('-i, --identifier <id>', 'Node identifier (ID)', parseId, 0n)
    .action(
      run(async (opts: { identifier: bigint }) => {
        const res = await ctx.call('listing nodes', (c) => c.listNodes({}));
        let list = res.nodes;
        if (opts.identifier !== 0n) {
          const one = list.find((n) => n.id === opts.identifier);
          if (one) list = [one];
        }
        list = list.filter((n) => n.subnetRoutes.length > 0 || n.approvedRoutes.length > 0 || n.availableRoutes.length > 0);
        ctx.printList(list, () => routesTable(list));
      }),
    );

  nodes
    .command('approve-routes')
    .description('Manage the approved routes of a node')
    .requiredOption('-i, --identifier <id>', 'Node identifier (ID)', parseId)
    .option(
      '-r, --routes <routes>',
      'List of routes that will be approved (comma-separated, e.g. "10.0.0.0/8,192.168.0.0/24"; an empty string removes all approved routes)',
      collectList,
    )
    .action(
      run(async (opts: { identifier: bigint; routes?: string[] }) => {
        const res = await ctx.call('setting approved routes', (c) =>
          c.setApprovedRoutes({ nodeId: opts.identifier, routes: opts.routes ?? [] }),
        );
        ctx.print(res.node, 'Node updated');
      }),
    );

  nodes
    .command('backfillips')
    .description('Backfill IPs missing from nodes (and remove those of prefixes no longer configured)')
    .action(
      run(async () => {
        const ok = ctx.force || (await confirm('Are you sure that you want to assign/remove IPs to/from nodes?'));
        if (!ok) return;
        const res = await ctx.call('backfilling IPs', (c) => c.backfillNodeIPs({ confirmed: true }));
        ctx.print(res, res.changes.length ? res.changes.join('\n') : 'Node IPs backfilled successfully');
      }),
    );
}
