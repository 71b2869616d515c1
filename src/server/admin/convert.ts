// Domain values to headscale.v1 messages, as the admin API shows them.

import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { UserSchema, type User as UserMsg } from '../../gen/headscale/v1/user_pb.js';
import { NodeSchema, RegisterMethod, type Node as NodeMsg } from '../../gen/headscale/v1/node_pb.js';
import { PreAuthKeySchema, type PreAuthKey as PreAuthKeyMsg } from '../../gen/headscale/v1/preauthkey_pb.js';
import { ApiKeySchema, type ApiKey as ApiKeyMsg } from '../../gen/headscale/v1/apikey_pb.js';
import { TAGGED_DEVICES_USER, displayUsername, type User } from '../../domain/user.js';
import type { Node } from '../../domain/node.js';
import type { ApiKey, PreAuthKey } from '../../domain/auth-keys.js';
import { maskedPreAuthKey, type State } from '../../state/index.js';
import { announcedRoutes } from '../../domain/routes.js';

export function userToMsg(user: User): UserMsg {
  return create(UserSchema, {
    id: BigInt(user.id),
    name: displayUsername(user),
    createdAt: timestampFromDate(user.createdAt),
    displayName: user.displayName,
    email: user.email,
    providerId: user.providerIdentifier ?? '',
    provider: user.provider,
    profilePicUrl: user.profilePicUrl,
  });
}

const TAGGED_USER_MSG = create(UserSchema, {
  id: BigInt(TAGGED_DEVICES_USER.id),
  name: TAGGED_DEVICES_USER.name,
  displayName: TAGGED_DEVICES_USER.displayName,
});

/** A pre-auth key for lists: the secret is masked; `full` is passed only right after creation. */
export function preAuthKeyToMsg(key: PreAuthKey, state: State, full?: string): PreAuthKeyMsg {
  const owner = key.userId === null ? undefined : state.users.get(key.userId);
  return create(PreAuthKeySchema, {
    user: owner ? userToMsg(owner) : undefined,
    id: BigInt(key.id),
    key: full ?? maskedPreAuthKey(key),
    reusable: key.reusable,
    ephemeral: key.ephemeral,
    used: key.used,
    expiration: key.expiration ? timestampFromDate(key.expiration) : undefined,
    createdAt: timestampFromDate(key.createdAt),
    aclTags: key.tags,
  });
}

export function apiKeyToMsg(key: ApiKey): ApiKeyMsg {
  return create(ApiKeySchema, {
    id: BigInt(key.id),
    prefix: key.prefix,
    expiration: key.expiration ? timestampFromDate(key.expiration) : undefined,
    createdAt: timestampFromDate(key.createdAt),
    lastSeen: key.lastSeen ? timestampFromDate(key.lastSeen) : undefined,
  });
}

const REGISTER_METHODS: Record<Node['registerMethod'], RegisterMethod> = {
  authkey: RegisterMethod.AUTH_KEY,
  cli: RegisterMethod.CLI,
  oidc: RegisterMethod.OIDC,
};

/** `authKey` is the key the node registered with, when the caller has looked it up. */
export function nodeToMsg(node: Node, state: State, authKey?: PreAuthKey): NodeMsg {
  const owner = node.userId === null ? undefined : state.users.get(node.userId);
  const announced = announcedRoutes(node.hostinfo);
  return create(NodeSchema, {
    id: BigInt(node.id),
    machineKey: node.machineKey,
    nodeKey: node.nodeKey,
    discoKey: node.discoKey,
    ipAddresses: [node.ipv4, node.ipv6].filter((ip): ip is string => !!ip),
    name: node.hostname,
    user: owner ? userToMsg(owner) : node.tags.length > 0 ? TAGGED_USER_MSG : undefined,
    lastSeen: node.lastSeen ? timestampFromDate(node.lastSeen) : undefined,
    expiry: node.expiry ? timestampFromDate(node.expiry) : undefined,
    preAuthKey: authKey ? preAuthKeyToMsg(authKey, state) : undefined,
    createdAt: timestampFromDate(node.createdAt),
    registerMethod: REGISTER_METHODS[node.registerMethod] ?? RegisterMethod.UNSPECIFIED,
    givenName: node.givenName,
    online: state.nodes.isOnline(node.id),
    approvedRoutes: node.approvedRoutes,
    availableRoutes: announced,
    subnetRoutes: [...state.routes.primaryRoutes(node.id), ...state.routes.exitRoutes(node)],
    tags: node.tags,
  });
}
