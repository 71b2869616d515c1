// The one table of the REST admin API (/api/v1): each RPC of headscale.v1.HeadscaleService with
// the HTTP method and path headscale 0.29.2's grpc-gateway gives it. Path variables use the proto
// field names ({node_id}); `body: true` means the request body is the message (minus path
// fields); otherwise non-path fields come from the query string. The REST handler and the
// OpenAPI document are both generated from this table.

import type { DescMethod } from '@bufbuild/protobuf';
import { HeadscaleService } from '../../gen/headscale/v1/headscale_pb.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteSpec {
  /** The RPC's local name in the generated service (createUser). */
  rpc: keyof typeof HeadscaleService.method;
  method: HttpMethod;
  path: string;
  body: boolean;
  summary: string;
}

export const ROUTES: readonly RouteSpec[] = [
  { rpc: 'createUser', method: 'POST', path: '/api/v1/user', body: true, summary: 'Create a user' },
  { rpc: 'renameUser', method: 'POST', path: '/api/v1/user/{old_id}/rename/{new_name}', body: false, summary: 'Rename a user' },
  { rpc: 'deleteUser', method: 'DELETE', path: '/api/v1/user/{id}', body: false, summary: 'Delete a user (it must own no nodes)' },
  { rpc: 'listUsers', method: 'GET', path: '/api/v1/user', body: false, summary: 'List users, optionally filtered by id, name or email' },
  { rpc: 'createPreAuthKey', method: 'POST', path: '/api/v1/preauthkey', body: true, summary: 'Create a pre-auth key (the full key is shown once)' },
  { rpc: 'expirePreAuthKey', method: 'POST', path: '/api/v1/preauthkey/expire', body: true, summary: 'Expire a pre-auth key' },
  { rpc: 'deletePreAuthKey', method: 'DELETE', path: '/api/v1/preauthkey', body: false, summary: 'Delete a pre-auth key' },
  { rpc: 'listPreAuthKeys', method: 'GET', path: '/api/v1/preauthkey', body: false, summary: 'List pre-auth keys (secrets masked)' },
  { rpc: 'debugCreateNode', method: 'POST', path: '/api/v1/debug/node', body: true, summary: 'Add a fake pending registration (testing)' },
  { rpc: 'getNode', method: 'GET', path: '/api/v1/node/{node_id}', body: false, summary: 'Get a node' },
  { rpc: 'setTags', method: 'POST', path: '/api/v1/node/{node_id}/tags', body: true, summary: 'Replace the tags of a node' },
  { rpc: 'setApprovedRoutes', method: 'POST', path: '/api/v1/node/{node_id}/approve_routes', body: true, summary: 'Set the approved routes of a node' },
  { rpc: 'registerNode', method: 'POST', path: '/api/v1/node/register', body: false, summary: 'Complete a pending registration (deprecated: use auth/register)' },
  { rpc: 'deleteNode', method: 'DELETE', path: '/api/v1/node/{node_id}', body: false, summary: 'Delete a node' },
  { rpc: 'expireNode', method: 'POST', path: '/api/v1/node/{node_id}/expire', body: false, summary: 'Expire a node key, set its expiry, or disable expiry' },
  { rpc: 'renameNode', method: 'POST', path: '/api/v1/node/{node_id}/rename/{new_name}', body: false, summary: 'Rename a node (MagicDNS name)' },
  { rpc: 'listNodes', method: 'GET', path: '/api/v1/node', body: false, summary: 'List nodes, optionally of one user' },
  { rpc: 'backfillNodeIPs', method: 'POST', path: '/api/v1/node/backfillips', body: false, summary: 'Give nodes the addresses the configured prefixes call for' },
  { rpc: 'authRegister', method: 'POST', path: '/api/v1/auth/register', body: true, summary: 'Complete a pending interactive login as a user' },
  { rpc: 'authApprove', method: 'POST', path: '/api/v1/auth/approve', body: true, summary: 'Approve a pending auth session' },
  { rpc: 'authReject', method: 'POST', path: '/api/v1/auth/reject', body: true, summary: 'Reject a pending auth session' },
  { rpc: 'createApiKey', method: 'POST', path: '/api/v1/apikey', body: true, summary: 'Create an API key (the full key is shown once)' },
  { rpc: 'expireApiKey', method: 'POST', path: '/api/v1/apikey/expire', body: true, summary: 'Expire an API key by prefix or id' },
  { rpc: 'listApiKeys', method: 'GET', path: '/api/v1/apikey', body: false, summary: 'List API keys' },
  { rpc: 'deleteApiKey', method: 'DELETE', path: '/api/v1/apikey/{prefix}', body: false, summary: 'Delete an API key by prefix (or id in the query)' },
  { rpc: 'getPolicy', method: 'GET', path: '/api/v1/policy', body: false, summary: 'Get the access policy text' },
  { rpc: 'setPolicy', method: 'PUT', path: '/api/v1/policy', body: true, summary: 'Store the access policy (policy.mode: database)' },
  { rpc: 'checkPolicy', method: 'POST', path: '/api/v1/policy/check', body: true, summary: 'Validate a policy without storing it' },
  { rpc: 'health', method: 'GET', path: '/api/v1/health', body: false, summary: 'Server health (database connectivity)' },
];

export function methodOf(route: RouteSpec): DescMethod {
  return HeadscaleService.method[route.rpc] as DescMethod;
}

/** The path variables of a route, in order ("node_id"). */
export function pathVariables(path: string): string[] {
  return [...path.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1] as string);
}

/** A matcher for a route's path: captures each variable (one segment, percent-decoded later). */
export function pathPattern(path: string): RegExp {
  const src = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[a-z_]+\\?\}/g, '([^/]+)');
  return new RegExp(`^${src}$`);
}
