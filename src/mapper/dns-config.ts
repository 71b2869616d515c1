// The DNSConfig every node receives, from the `dns` section of the configuration.

import type { DnsConfig as DnsSettings } from '../config/index.js';
import type { DNSConfig, Resolver } from '../tailcfg/types.js';

export function buildDnsConfig(dns: DnsSettings, extraRecords = dns.extra_records): DNSConfig {
  const resolvers: Resolver[] = dns.nameservers.global.map((Addr) => ({ Addr }));
  const out: DNSConfig = {};
  if (dns.override_local_dns) out.Resolvers = resolvers;
  else if (resolvers.length > 0) out.FallbackResolvers = resolvers;
  const routes: Record<string, Resolver[]> = {};
  for (const [domain, servers] of Object.entries(dns.nameservers.split)) routes[domain] = servers.map((Addr) => ({ Addr }));
  if (Object.keys(routes).length > 0) out.Routes = routes;
  const domains = [...(dns.base_domain ? [dns.base_domain] : []), ...dns.search_domains];
  if (domains.length > 0) out.Domains = domains;
  out.Proxied = dns.magic_dns && dns.base_domain !== '';
  if (extraRecords.length > 0) {
    out.ExtraRecords = extraRecords.map((r) => ({ Name: r.name, Type: r.type, Value: r.value }));
  }
  return out;
}
