// Keys that headscale used to accept and no longer does. Some stop the server (headscale made
// them fatal), some were renamed (fatal unless the new key is also set, in which case the old one
// is only ignored with a warning), and one is still honoured as an alias with a warning.

export type RemovedKey =
  | { readonly path: string; readonly kind: 'fatal'; readonly why: string }
  | { readonly path: string; readonly kind: 'renamed'; readonly to: string }
  | { readonly path: string; readonly kind: 'alias'; readonly to: string };

const USERNAME_IN_MAGIC_DNS =
  'is no longer supported: MagicDNS names are always <node>.<dns.base_domain>; delete the key';

export const REMOVED_KEYS: readonly RemovedKey[] = [
  {
    path: 'randomize_client_port',
    kind: 'fatal',
    why:
      'was removed in headscale 0.29: set "randomizeClientPort": true at the top level of the policy ' +
      '(see policy.mode and policy.path), or grant the randomize-client-port capability to chosen nodes ' +
      'with a "nodeAttrs" entry',
  },
  {
    path: 'oidc.expiry',
    kind: 'fatal',
    why:
      'was removed: the default key expiry now covers every login method and is set with node.expiry ' +
      '(oidc.use_expiry_from_token still takes it from the ID token)',
  },
  {
    path: 'oidc.strip_email_domain',
    kind: 'fatal',
    why:
      'was removed in headscale 0.26: OIDC users are identified by issuer and subject, and user names ' +
      'are no longer cut from the e-mail address; delete the key',
  },
  {
    path: 'oidc.map_legacy_users',
    kind: 'fatal',
    why: 'was removed in headscale 0.26: the one-time matching of pre-0.24 users is no longer offered; delete the key',
  },
  { path: 'dns.use_username_in_magic_dns', kind: 'fatal', why: USERNAME_IN_MAGIC_DNS },
  { path: 'dns_config.use_username_in_magic_dns', kind: 'fatal', why: USERNAME_IN_MAGIC_DNS },
  { path: 'acl_policy_path', kind: 'renamed', to: 'policy.path' },
  { path: 'dns_config.magic_dns', kind: 'renamed', to: 'dns.magic_dns' },
  { path: 'dns_config.base_domain', kind: 'renamed', to: 'dns.base_domain' },
  { path: 'dns_config.override_local_dns', kind: 'renamed', to: 'dns.override_local_dns' },
  { path: 'dns_config.nameservers', kind: 'renamed', to: 'dns.nameservers.global' },
  { path: 'dns_config.restricted_nameservers', kind: 'renamed', to: 'dns.nameservers.split' },
  { path: 'dns_config.domains', kind: 'renamed', to: 'dns.search_domains' },
  { path: 'dns_config.extra_records', kind: 'renamed', to: 'dns.extra_records' },
  { path: 'ephemeral_node_inactivity_timeout', kind: 'alias', to: 'node.ephemeral.inactivity_timeout' },
];

const BY_PATH: ReadonlyMap<string, RemovedKey> = new Map(REMOVED_KEYS.map((k) => [k.path, k]));

/** The old `dns_config` block: walked like a group so each old key gets its own message. */
export function isRemovedGroup(path: string): boolean {
  return path === 'dns_config';
}

export function removedKeyFor(path: string): RemovedKey | undefined {
  const exact = BY_PATH.get(path);
  if (exact) return exact;
  if (path.startsWith('dns_config.')) {
    return { path, kind: 'fatal', why: 'belongs to the old dns_config section, which was replaced by dns; move the setting there' };
  }
  return undefined;
}

/** Message for an old key whose replacement is not set: it stops the server. */
export function removedKeyError(key: RemovedKey): string {
  switch (key.kind) {
    case 'fatal':
      return key.why;
    case 'renamed':
      return `was renamed "${key.to}"; move the value there`;
    case 'alias':
      return `is deprecated; use "${key.to}"`;
  }
}
