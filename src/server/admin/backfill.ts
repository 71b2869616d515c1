// BackfillNodeIPs: bring every node's addresses in line with the configured prefixes. A node
// missing an address of a configured family gets one; an address outside its family's prefix
// is replaced; an address of a family no longer configured is removed. Returns one line per
// change, for the admin to read.

import { parseIp, parsePrefix, prefixContains } from '../../lib/ip.js';
import type { State } from '../../state/index.js';

export async function backfillNodeIps(state: State): Promise<string[]> {
  const prefixes = { 4: state.options.prefixes.v4, 6: state.options.prefixes.v6 } as const;
  const changes: string[] = [];
  for (const node of state.nodes.list()) {
    const next = { ipv4: node.ipv4, ipv6: node.ipv6 };
    const notes: string[] = [];
    for (const family of [4, 6] as const) {
      const field = family === 4 ? 'ipv4' : 'ipv6';
      const current = next[field];
      const prefix = prefixes[family] ? parsePrefix(prefixes[family]) : undefined;
      const parsed = current ? parseIp(current) : undefined;
      const fits = !!prefix && !!parsed && prefixContains(prefix, parsed.family, parsed.value);
      if (fits) continue;
      if (current && !prefix) {
        next[field] = null;
        notes.push(`removed IPv${family} ${current}`);
        continue;
      }
      if (!prefix) continue;
      const fresh = state.ips.allocate();
      const other = family === 4 ? 'ipv6' : 'ipv4';
      state.ips.release({ ipv4: null, ipv6: null, [other]: fresh[other] });
      next[field] = fresh[field];
      notes.push(current ? `replaced IPv${family} ${current} with ${fresh[field]}` : `added IPv${family} ${fresh[field]}`);
    }
    if (notes.length === 0) continue;
    await state.nodes.update(node.id, next);
    for (const old of [node.ipv4, node.ipv6]) {
      if (old && old !== next.ipv4 && old !== next.ipv6) state.ips.release({ ipv4: old.includes('.') ? old : null, ipv6: old.includes(':') ? old : null });
    }
    changes.push(`node ${node.id} (${node.givenName}): ${notes.join(', ')}`);
  }
  return changes;
}
