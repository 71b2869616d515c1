// Tag names ("tag:<name>") as pre-auth keys, admins and the policy use them.

import { SwitchboardError } from '../lib/errors.js';

const TAG = /^tag:[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Validates, de-duplicates and sorts a tag list; throws on the first bad tag. */
export function normalizeTags(tags: readonly string[]): string[] {
  for (const tag of tags) {
    if (!tag.startsWith('tag:')) {
      throw new SwitchboardError('ERR_NODE_INVALID_TAGS', `invalid tag "${tag}": tags must start with "tag:"`);
    }
    if (!TAG.test(tag)) {
      throw new SwitchboardError(
        'ERR_NODE_INVALID_TAGS',
        `invalid tag "${tag}": after "tag:" use letters, digits, '-' and '_', starting with a letter or digit`,
      );
    }
  }
  return [...new Set(tags)].sort();
}
