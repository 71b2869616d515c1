// The headscale.v1.HeadscaleService implementation over our state, all 29 RPCs of headscale
// 0.29. Each handler validates its request, calls one state operation, and converts the result;
// errors become gRPC statuses in one place (guard). The same implementation serves the unix
// socket, gRPC on grpc_listen_addr and the REST gateway under /api/v1.

import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { timestampDate, timestampFromDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { HeadscaleService } from '../../gen/headscale/v1/headscale_pb.js';
import { SwitchboardError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { State } from '../../state/index.js';
import type { PreAuthKey } from '../../domain/auth-keys.js';
import { apiKeyToMsg, nodeToMsg, preAuthKeyToMsg, userToMsg } from './convert.js';
import { toConnectError } from './errors.js';
import { normalizeApprovedRoutes } from '../../domain/routes.js';
import { readPolicy, type PolicySource } from './policy-text.js';
import { debugCreateNode } from './debug-node.js';
import { backfillNodeIps } from './backfill.js';
import { isAuthId } from '../../state/pending-registrations.js';

export type Impl = ServiceImpl<typeof HeadscaleService>;

export interface AdminServiceOptions {
  /** Where the policy text lives (policy.mode, policy.path). */
  policy: PolicySource;
  /** Called after an API key was expired or deleted (drops cached authentications). */
  onApiKeysChanged?: () => void;
}

const DEFAULT_OPTIONS: AdminServiceOptions = { policy: { mode: 'file', path: '' } };

function requireAuthId(authId: string): string {
  if (!isAuthId(authId)) {
    throw new SwitchboardError('ERR_ARGUMENT', 'invalid auth_id: expected hskey-authreq- followed by 24 letters and digits');
  }
  return authId;
}

/** Converts a request's uint64 ID, refusing 0 (unset) and values beyond a safe integer. */
function requireId(value: bigint, what: string): number {
  if (value <= 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new SwitchboardError('ERR_ARGUMENT', `${what} must be a positive ID`);
  }
  return Number(value);
}

function requireText(value: string, what: string): string {
  if (!value) throw new SwitchboardError('ERR_ARGUMENT', `${what} is required`);
  return value;
}

function optionalDate(ts: Timestamp | undefined): Date | null {
  return ts ? timestampDate(ts) : null;
}

export function createAdminService(state: State, options: AdminServiceOptions = DEFAULT_OPTIONS): Impl {
  const keysById = async (): Promise<Map<number, PreAuthKey>> =>
    new Map((await state.preAuthKeys.list()).map((k) => [k.id, k]));

  return {
    // Users
    async createUser(req) {
      const user = await state.users.create({
        name: req.name,
        displayName: req.displayName,
        email: req.email,
        pictureUrl: req.pictureUrl,
      });
      return { user: userToMsg(user) };
    },
    async renameUser(req) {
      return { user: userToMsg(await state.users.rename(requireId(req.oldId, 'old_id'), req.newName)) };
    },
    async deleteUser(req) {
      await state.users.delete(requireId(req.id, 'id'));
      return {};
    },
    async listUsers(req) {
      const users = state.users.list({ id: Number(req.id), name: req.name, email: req.email });
      return { users: users.map(userToMsg) };
    },

    // Pre-auth keys
    async createPreAuthKey(req) {
      const { key, full } = await state.preAuthKeys.create({
        userId: req.user === 0n ? null : requireId(req.user, 'user'),
        reusable: req.reusable,
        ephemeral: req.ephemeral,
        expiration: optionalDate(req.expiration),
        tags: req.aclTags,
      });
      return { preAuthKey: preAuthKeyToMsg(key, state, full) };
    },
    async expirePreAuthKey(req) {
      await state.preAuthKeys.expire(requireId(req.id, 'id'));
      return {};
    },
    async deletePreAuthKey(req) {
      await state.preAuthKeys.delete(requireId(req.id, 'id'));
      return {};
    },
    async listPreAuthKeys() {
      const keys = await state.preAuthKeys.list();
      return { preAuthKeys: keys.map((k) => preAuthKeyToMsg(k, state)) };
    },

    // Nodes
    async getNode(req) {
      const node = state.nodes.require(requireId(req.nodeId, 'node_id'));
      const keys = await keysById();
      return { node: nodeToMsg(node, state, node.authKeyId === null ? undefined : keys.get(node.authKeyId)) };
    },
    async listNodes(req) {
      if (req.user) state.users.resolve(req.user);
      const keys = await keysById();
      const nodes = state.nodes.list(req.user || undefined);
      return { nodes: nodes.map((n) => nodeToMsg(n, state, n.authKeyId === null ? undefined : keys.get(n.authKeyId))) };
    },
    async deleteNode(req) {
      await state.nodes.delete(requireId(req.nodeId, 'node_id'));
      return {};
    },
    async expireNode(req) {
      const id = requireId(req.nodeId, 'node_id');
      const at = req.disableExpiry ? null : req.expiry ? timestampDate(req.expiry) : undefined;
      return { node: nodeToMsg(await state.nodes.expire(id, at), state) };
    },
    async renameNode(req) {
      return { node: nodeToMsg(await state.nodes.rename(requireId(req.nodeId, 'node_id'), req.newName), state) };
    },
    async setTags(req) {
      state.nodes.require(requireId(req.nodeId, 'node_id'));
      const unknown = state.policy.unknownTags(req.tags);
      if (unknown.length > 0) {
        throw new SwitchboardError('ERR_NODE_INVALID_TAGS', `tags [${unknown.join(', ')}] are not defined in the policy's tagOwners`);
      }
      return { node: nodeToMsg(await state.nodes.setTags(requireId(req.nodeId, 'node_id'), req.tags), state) };
    },
    async setApprovedRoutes(req) {
      const id = requireId(req.nodeId, 'node_id');
      state.nodes.require(id);
      const routes = normalizeApprovedRoutes(req.routes);
      return { node: nodeToMsg(await state.nodes.update(id, { approvedRoutes: routes }), state) };
    },
    async backfillNodeIPs(req) {
      if (!req.confirmed) throw new SwitchboardError('ERR_ARGUMENT', 'not confirmed, aborting');
      return { changes: await backfillNodeIps(state) };
    },
    async debugCreateNode(req) {
      return { node: debugCreateNode(state, { user: req.user, key: req.key, name: req.name, routes: req.routes }) };
    },

    // Interactive registrations
    async authRegister(req) {
      const node = await state.registration.approve(req.authId, requireText(req.user, 'user'));
      return { node: nodeToMsg(node, state) };
    },
    async registerNode(req) {
      const node = await state.registration.approve(req.key, requireText(req.user, 'user'));
      return { node: nodeToMsg(node, state) };
    },
    async authApprove(req) {
      const authId = requireAuthId(req.authId);
      if (state.registration.pending.get(authId)) {
        throw new ConnectError(
          `auth_id ${authId} is a pending node registration: complete it with "auth register --auth-id ${authId} --user USER"`,
          Code.FailedPrecondition,
        );
      }
      // SSH check-mode sessions are the only other kind of pending auth, and they do not exist yet.
      throw new ConnectError(`no pending auth session for auth_id ${authId}`, Code.NotFound);
    },
    async authReject(req) {
      const authId = requireAuthId(req.authId);
      if (!state.registration.pending.get(authId)) {
        throw new ConnectError(`no pending auth session for auth_id ${authId}`, Code.NotFound);
      }
      state.registration.reject(authId);
      return {};
    },

    // API keys
    async createApiKey(req) {
      const { full } = await state.apiKeys.create(optionalDate(req.expiration));
      return { apiKey: full };
    },
    async expireApiKey(req) {
      await state.apiKeys.expire(apiKeyRef(req));
      options.onApiKeysChanged?.();
      return {};
    },
    async deleteApiKey(req) {
      await state.apiKeys.delete(apiKeyRef(req));
      options.onApiKeysChanged?.();
      return {};
    },
    async listApiKeys() {
      return { apiKeys: (await state.apiKeys.list()).map(apiKeyToMsg) };
    },

    // Policy: validated by the engine against the live users and nodes, tests included.
    async getPolicy() {
      const { policy, updatedAt } = await readPolicy(options.policy, () => state.store.policies.latest());
      return { policy, updatedAt: updatedAt ? timestampFromDate(updatedAt) : undefined };
    },
    async setPolicy(req) {
      if (options.policy.mode !== 'database') {
        throw new ConnectError("update is disabled for modes other than 'database' (policy.mode is file)", Code.FailedPrecondition);
      }
      const stored = await state.policy.set(req.policy);
      return { policy: stored.data, updatedAt: timestampFromDate(stored.updatedAt) };
    },
    async checkPolicy(req) {
      state.policy.check(req.policy);
      return {};
    },

    async health() {
      return { databaseConnectivity: await state.store.ping().catch(() => false) };
    },
  };
}

function apiKeyRef(req: { prefix: string; id: bigint }): { id: number } | { prefix: string } {
  if ((req.prefix === '') === (req.id === 0n)) {
    throw new SwitchboardError('ERR_ARGUMENT', 'give exactly one of an API key prefix or ID');
  }
  return req.prefix ? { prefix: req.prefix } : { id: requireId(req.id, 'id') };
}

/** Wraps every handler so that failures leave as gRPC statuses with safe messages. */
export function guard(impl: Impl, logger: Logger): Impl {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(impl)) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (err) {
        throw toConnectError(err, logger, name);
      }
    };
  }
  return wrapped as Impl;
}
