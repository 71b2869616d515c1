// ChangeSet values for the batcher: an empty one, and the union of consecutive batches, for a
// node that missed several of them while a fan-out was running (it gets one delta for all).

import type { ChangeSet } from './mapper.js';

export function emptyChangeSet(): ChangeSet {
  return { changed: new Set(), removed: new Set(), online: new Map(), patched: new Map(), users: new Set(), dnsChanged: false, derpChanged: false, policyChanged: false, at: '' };
}

/**
 * One set saying what the given batches, oldest first, say in turn: later online flags and
 * patch fields win, a removal cancels earlier changes and patches of that node, and the
 * ControlTime is the last batch's. The inputs are not modified.
 */
export function mergeChangeSets(sets: readonly ChangeSet[]): ChangeSet {
  const out = emptyChangeSet();
  for (const set of sets) {
    for (const id of set.changed) out.changed.add(id);
    for (const [id, online] of set.online) out.online.set(id, online);
    for (const [id, patch] of set.patched) out.patched.set(id, { ...out.patched.get(id), ...patch });
    for (const id of set.removed) {
      out.removed.add(id);
      out.changed.delete(id);
      out.patched.delete(id);
    }
    for (const id of set.users) out.users.add(id);
    out.dnsChanged ||= set.dnsChanged;
    out.derpChanged ||= set.derpChanged;
    out.policyChanged ||= set.policyChanged;
    out.at = set.at;
  }
  return out;
}
