// MagicDNS names: turning a client's hostname into a DNS label, and the rules an admin rename
// must follow. Labels are unique tailnet-wide: "laptop", "laptop-1", "laptop-2", ...

import { SwitchboardError } from '../lib/errors.js';

export const FALLBACK_NAME = 'node';
const MAX_LABEL = 63;
const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** A DNS label from a free-form hostname: lower case, anything else becomes '-', no edges. */
export function hostnameToLabel(hostname: string): string {
  const ascii = hostname.normalize('NFKD').replace(/[^\x00-\x7f]/g, '');
  const label = ascii
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-{2,}/g, '-')
    .slice(0, MAX_LABEL)
    .replace(/^-+|-+$/g, '');
  return label || FALLBACK_NAME;
}

/** Throws unless name is a valid DNS label whose FQDN under baseDomain fits in 255 bytes. */
export function checkGivenName(name: string, baseDomain: string): void {
  let why: string | undefined;
  if (name.length === 0) why = 'must not be empty';
  else if (name.length > MAX_LABEL) why = `must be at most ${MAX_LABEL} characters long`;
  else if (!LABEL.test(name)) why = "may contain only lower-case letters, digits and '-', and must not start or end with '-'";
  else if (baseDomain && name.length + baseDomain.length + 2 > 255) why = `is too long together with the base domain "${baseDomain}"`;
  if (why) throw new SwitchboardError('ERR_NODE_INVALID_NAME', `invalid node name "${name}": ${why}`);
}

/** The first of base, base-1, base-2, ... that `taken` does not hold. */
export function uniqueLabel(base: string, taken: (name: string) => boolean): string {
  if (!taken(base)) return base;
  for (let i = 1; ; i++) {
    const suffix = `-${i}`;
    const candidate = base.slice(0, MAX_LABEL - suffix.length).replace(/-+$/, '') + suffix;
    if (!taken(candidate)) return candidate;
  }
}
