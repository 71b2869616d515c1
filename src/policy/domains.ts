// Owns the tailnet-domain check for domain wildcards: `user:*@<domain>` selectors and SSH
// `localpart:*@<domain>` users may only name a domain that belongs to the tailnet. SaaS knows
// its tailnet's domains; a self-hosted server has to be told (CompileOptions.tailnetDomains),
// and without that list nothing is checked (headscale's behaviour). Texts as SaaS words them.

import { PolicyError } from './errors.js';
import type { Alias, Policy } from './model.js';

const USER_WILDCARD = /^user:\*@(.+)$/;
const LOCALPART = /^localpart:\*@([^@]+)$/;

function message(domain: string): string {
  return `${domain} is not associated with this Tailnet and cannot be used in user:*@<domain> expressions`;
}

/** Throws when a domain wildcard names a domain outside the tailnet's (compared exactly). */
export function checkTailnetDomains(policy: Policy, domains: readonly string[]): void {
  const known = new Set(domains);
  const check = (aliases: readonly Alias[], prefix: string) => {
    for (const a of aliases) {
      const m = a.kind === 'user' ? USER_WILDCARD.exec(a.text) : null;
      if (m && !known.has(m[1]!)) throw new PolicyError('ERR_POLICY_INVALID', `${prefix}${message(m[1]!)}`);
    }
  };
  for (const r of policy.ssh ?? []) {
    check(r.src, '[ssh] ');
    check(r.dst, '[ssh] ');
    for (const u of r.users) {
      const m = LOCALPART.exec(u);
      if (m && !known.has(m[1]!)) throw new PolicyError('ERR_POLICY_INVALID', message(m[1]!));
    }
  }
  for (const r of policy.acls ?? []) {
    check(r.src, '');
    check(
      r.dst.map((d) => d.alias),
      '',
    );
  }
  for (const g of policy.grants ?? []) {
    check(g.src, '');
    check(g.dst, '');
  }
  for (const na of policy.nodeAttrs) check(na.target, '');
}
