// Users: who owns nodes. A user is local (created by an admin) or comes from an identity
// provider (provider + providerIdentifier set). Names follow headscale's username rules.

import { SwitchboardError } from '../lib/errors.js';

export interface User {
  id: number;
  name: string;
  displayName: string;
  email: string;
  providerIdentifier: string | null;
  provider: string;
  profilePicUrl: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The pseudo-user the admin API shows as the owner of tagged nodes. */
export const TAGGED_DEVICES_USER = {
  id: 2147455555,
  name: 'tagged-devices',
  displayName: 'Tagged Devices',
} as const;

const USERNAME = /^[A-Za-z][A-Za-z0-9._@-]*$/;

/**
 * Checks a username against headscale's rules: at least two characters, a letter first, then
 * letters, digits, '-', '.', '_' and at most one '@'.
 */
export function checkUsername(name: string): void {
  const why = usernameProblem(name);
  if (why) throw new SwitchboardError('ERR_USER_INVALID_NAME', `invalid user name "${name}": ${why}`);
}

function usernameProblem(name: string): string | undefined {
  if (name.length < 2) return 'must be at least 2 characters long';
  if (name.length > 255) return 'must be at most 255 characters long';
  if (!/^[A-Za-z]/.test(name)) return 'must start with a letter';
  if (!USERNAME.test(name)) return "may contain only letters, digits, '-', '.', '_' and '@'";
  if (name.split('@').length > 2) return "may contain at most one '@'";
  return undefined;
}

/** The name a user goes by when the stored name is empty (typical for identity-provider users). */
export function displayUsername(user: User): string {
  return user.name || user.email || user.providerIdentifier || String(user.id);
}
