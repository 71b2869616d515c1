// Who may give a node a tag: `tagOwners` lists users ("alice@", or an email), groups, and other
// tags. A user may request a tag when the user, or a group the user is in, owns it.

import type { Policy } from './model.js';

export interface TagUser {
  name: string;
  email: string;
}

/** "alice@" names the user called alice; "alice@example.com" names a user by email. */
function namesUser(token: string, user: TagUser): boolean {
  if (token.endsWith('@')) return token === `${user.name}@` || (user.email !== '' && user.email.startsWith(token));
  return token === user.email || token === user.name;
}

/** The requested tags this user may not apply (all of them when there is no policy). */
export function tagsNotOwned(policy: Policy | null, user: TagUser, tags: readonly string[]): string[] {
  if (!policy) return [...tags];
  return tags.filter((tag) => {
    const owners = policy.tagOwners.get(tag);
    if (!owners) return true;
    return !owners.some((o) => {
      if (o.kind === 'user') return namesUser(o.text, user);
      if (o.kind === 'group') return (policy.groups.get(o.text) ?? []).some((m) => namesUser(m, user));
      return false;
    });
  });
}
