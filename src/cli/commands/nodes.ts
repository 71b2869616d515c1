// switchboard nodes list|delete|expire|rename|tag|register (alias: node); the route commands
// and backfillips are in node-routes.ts.

import type { Command } from 'commander';
import { timestampDate, timestampFromDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import type { CliContext } from '../context.js';
import type { Runner } from '../runner.js';
import { collectList, parseId } from '../flags.js';
import { colour, formatTime, renderTable } from '../output.js';
import { confirm } from '../prompt.js';
import { shortKey } from '../../crypto/keys.js';
import type { Node } from '../../gen/headscale/v1/node_pb.js';
import { registerNodesRegister } from './auth.js';
import { registerNodeRoutes } from './node-routes.js';

function requireNodeId(id: bigint): bigint {
  if (id === 0n) throw new Error('missing --identifier parameter');
  return id;
}

export function nodesTable(nodes: Node[]): string {
  return renderTable([
    ['ID', 'Hostname', 'Name', 'MachineKey', 'NodeKey', 'User', 'Tags', 'IP addresses', 'Ephemeral', 'Last seen', 'Expiration', 'Connected', 'Expired'],
    ...nodes.map((n) => {
      const expiry = n.expiry ? timestampDate(n.expiry) : null;
      return [
        String(n.id),
        n.name,
        n.givenName,
        shortKey(n.machineKey),
        shortKey(n.nodeKey),
        n.user?.name ?? '',
        n.tags.join('\n'),
        n.ipAddresses.join('\n'),
        String(n.preAuthKey?.ephemeral ?? false),
        n.lastSeen ? formatTime(timestampDate(n.lastSeen)) : '',
        expiry ? formatTime(expiry) : 'N/A',
        n.online ? colour('online', 'green') : colour('offline', 'red'),
        expiry && expiry.getTime() < Date.now() ? colour('yes', 'red') : colour('no', 'green'),
      ];
    }),
  ]);
}

export function registerNodes(program: Command, ctx: CliContext, run: Runner): void {
  const nodes = program.command('nodes').alias('node').description('Manage the nodes of Switchboard');
  registerNodesRegister(nodes, ctx, run);
  registerNodeRoutes(nodes, ctx, run);
  const idFlag = (c: Command) => c.option('-i, --identifier <id>', 'Node identifier (ID)', parseId, 0n);

  nodes
    .command('list')
    .aliases(['ls', 'show'])
    .description('List nodes')
    .option('-u, --user <name>', 'Filter by user')
    .action(
      run(async (opts: { user?: string }) => {
        const res = await ctx.call('listing nodes', (c) => c.listNodes({ user: opts.user ?? '' }));
        ctx.printList(res.nodes, () => nodesTable(res.nodes));
      }),
    );

  idFlag(nodes.command('expire').aliases(['logout', 'exp', 'e']).description("Expire (log out) a node's key"))
    .option('-e, --expiry <time>', 'Set expiry to this time (RFC3339, e.g. 2025-08-27T10:00:00Z); empty expires now')
    .option('-d, --disable', 'Disable key expiry (the node never expires)', false)
    .action(
      run(async (opts: { identifier: bigint; expiry?: string; disable: boolean }) => {
        const nodeId = requireNodeId(opts.identifier);
        if (opts.disable) {
          const res = await ctx.call('disabling node expiry', (c) => c.expireNode({ nodeId, disableExpiry: true }));
          return ctx.print(res.node, 'Node expiry disabled');
        }
        let expiry: Timestamp | undefined;
        if (opts.expiry) {
          const at = new Date(opts.expiry);
          if (!/^\d{4}-\d\d-\d\dT/.test(opts.expiry) || Number.isNaN(at.getTime())) {
            throw new Error(`parsing expiry time: "${opts.expiry}" is not an RFC3339 time such as 2025-08-27T10:00:00Z`);
          }
          expiry = timestampFromDate(at);
        }
        const res = await ctx.call('expiring node', (c) => c.expireNode({ nodeId, expiry }));
        const future = expiry && timestampDate(expiry).getTime() > Date.now();
        ctx.print(res.node, future ? 'Node expiration updated' : 'Node expired');
      }),
    );

  idFlag(nodes.command('rename').argument('<NEW_NAME>', 'new MagicDNS name').description('Renames a node'))
    .action(
      run(async (newName: string, opts: { identifier: bigint }) => {
        const nodeId = requireNodeId(opts.identifier);
        const res = await ctx.call('renaming node', (c) => c.renameNode({ nodeId, newName }));
        ctx.print(res.node, 'Node renamed');
      }),
    );

  idFlag(nodes.command('delete').alias('del').description('Delete a node'))
    .action(
      run(async (opts: { identifier: bigint }) => {
        const nodeId = requireNodeId(opts.identifier);
        const { node } = await ctx.call('getting node', (c) => c.getNode({ nodeId }));
        const ok = ctx.force || (await confirm(`Do you want to delete the node ${node?.name ?? nodeId}?`));
        if (!ok) return ctx.print({ Result: 'Node not deleted' }, 'Node not deleted');
        const res = await ctx.call('deleting node', (c) => c.deleteNode({ nodeId }));
        ctx.print(res, 'Node deleted');
      }),
    );

  idFlag(nodes.command('tag').aliases(['tags', 't']).description('Set the tags of a node (replaces its tags)'))
    .option('-t, --tags <tags>', 'List of tags to set on the node (comma-separated, repeatable)', collectList)
    .action(
      run(async (opts: { identifier: bigint; tags?: string[] }) => {
        const nodeId = requireNodeId(opts.identifier);
        const res = await ctx.call('setting tags', (c) => c.setTags({ nodeId, tags: opts.tags ?? [] }));
        ctx.print(res.node, 'Node updated');
      }),
    );
}
