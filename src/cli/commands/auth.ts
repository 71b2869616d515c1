// switchboard auth register|approve|reject, and the deprecated nodes register --key: complete or refuse
// a client's interactive login (the auth ID is the last part of the URL the client shows).

import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { Runner } from '../runner.js';

export function registerAuth(program: Command, ctx: CliContext, run: Runner): void {
  const auth = program.command('auth').description('Approve or reject pending interactive logins');

  auth
    .command('register')
    .description('Complete a pending login: the node joins as this user')
    .requiredOption('--auth-id <id>', 'auth ID from the login URL (hskey-authreq-...)')
    .requiredOption('-u, --user <name>', 'user the node will belong to')
    .action(
      run(async (opts: { authId: string; user: string }) => {
        const res = await ctx.call('registering node', (c) => c.authRegister({ authId: opts.authId, user: opts.user }));
        ctx.print(res.node, `Node ${res.node?.givenName ?? ''} registered`);
      }),
    );

  auth
    .command('approve')
    .description('Approve a pending auth session (SSH check mode or re-authentication)')
    .requiredOption('--auth-id <id>', 'auth ID from the URL (hskey-authreq-...)')
    .action(
      run(async (opts: { authId: string }) => {
        const res = await ctx.call('approving auth session', (c) => c.authApprove({ authId: opts.authId }));
        ctx.print(res, 'Auth session approved');
      }),
    );

  auth
    .command('reject')
    .description('Refuse a pending login')
    .requiredOption('--auth-id <id>', 'auth ID from the login URL (hskey-authreq-...)')
    .action(
      run(async (opts: { authId: string }) => {
        const res = await ctx.call('rejecting login', (c) => c.authReject({ authId: opts.authId }));
        ctx.print(res, 'Login rejected');
      }),
    );
}

/** headscale's older form, kept for scripts: nodes register --user USER --key AUTH_ID. */
export function registerNodesRegister(nodes: Command, ctx: CliContext, run: Runner): void {
  nodes
    .command('register')
    .description('Registers a node to your network (deprecated: use auth register)')
    .requiredOption('-u, --user <name>', 'User')
    .requiredOption('-k, --key <id>', 'Key (the auth ID from the login URL)')
    .action(
      run(async (opts: { user: string; key: string }) => {
        const res = await ctx.call('registering node', (c) => c.registerNode({ user: opts.user, key: opts.key }));
        ctx.print(res.node, `Node ${res.node?.givenName ?? ''} registered`);
      }),
    );
}
