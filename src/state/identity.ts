// Who a node belongs to, in the forms clients see: the RegisterResponse's User and Login, and
// the UserProfile of the map. Tagged nodes belong to the pseudo-user "tagged-devices".

import { TAGGED_DEVICES_USER, displayUsername, type User } from '../domain/user.js';
import type { Node } from '../domain/node.js';
import type { RegisterResponse, UserProfile } from '../tailcfg/types.js';

export function ownerId(node: Pick<Node, 'userId'>): number {
  return node.userId ?? TAGGED_DEVICES_USER.id;
}

export function userProfile(user: User | undefined): UserProfile {
  if (!user) {
    return { ID: TAGGED_DEVICES_USER.id, LoginName: TAGGED_DEVICES_USER.name, DisplayName: TAGGED_DEVICES_USER.displayName };
  }
  const login = displayUsername(user);
  return { ID: user.id, LoginName: login, DisplayName: user.displayName || login, ProfilePicURL: user.profilePicUrl || undefined };
}

export function registerIdentity(node: Pick<Node, 'userId' | 'createdAt'>, user: User | undefined): Pick<RegisterResponse, 'User' | 'Login'> {
  const p = userProfile(node.userId === null ? undefined : user);
  return {
    User: { ID: p.ID, DisplayName: p.DisplayName, ProfilePicURL: p.ProfilePicURL ?? '', Created: (user?.createdAt ?? node.createdAt).toISOString() },
    Login: { ID: p.ID, Provider: user?.provider ?? '', LoginName: p.LoginName, DisplayName: p.DisplayName, ProfilePicURL: p.ProfilePicURL ?? '' },
  };
}
