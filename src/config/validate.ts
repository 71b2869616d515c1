// Rules that look at more than one value's type: syntax of URLs, addresses and CIDRs, and the
// relations between keys that headscale enforces at start-up (one prefix at least, MagicDNS needs a
// base domain, mutually exclusive pairs, timing bounds, the embedded DERP's needs). Problems are
// collected, never thrown; softer findings become warnings.

import { formatDuration } from '../lib/duration.js';
import { CGNAT_RANGE, parseIp, parsePrefix, prefixContains, TAILSCALE_ULA_RANGE } from './cidr.js';
import { describeLine, type Location, type ProblemList } from './problems.js';
import { SCHEMA, type KeySpec } from './schema.js';
import type { RawValue } from './source.js';
import { getAtPath } from './tree.js';
import type { Config } from './types.js';

/** What the loader knows about where each key's value came from. */
export interface Origins {
  loc(path: string): Location;
  raw(path: string): RawValue | undefined;
  /** Neither the file nor the environment set it. */
  isDefault(path: string): boolean;
  /** Set with a value of the right type (or left at its default). */
  isValid(path: string): boolean;
  /** The key as the operator wrote it (an old alias such as ephemeral_node_inactivity_timeout). */
  writtenAs(path: string): string;
}

const MIN_EPHEMERAL_MS = 65_000;

export function validateConfig(c: Config, origins: Origins, problems: ProblemList, warnings: string[]): void {
  const add = (path: string, why: string, loc = origins.loc(path)): void => problems.add(origins.writtenAs(path), loc, why);
  const ok = (...paths: string[]): boolean => paths.every((p) => origins.isValid(p));
  const byDefault = (path: string): string => (origins.isDefault(path) ? ' (the default)' : '');

  for (const spec of SCHEMA) if (spec.format && ok(spec.path)) checkFormat(spec, getAtPath(c, spec.path), origins, add);

  // Address pools.
  if (ok('prefixes.v4', 'prefixes.v6')) {
    if (c.prefixes.v4 === '' && c.prefixes.v6 === '') add('prefixes', 'at least one of prefixes.v4 and prefixes.v6 must be set');
    checkPool('prefixes.v4', c.prefixes.v4, 4, origins, add, warnings);
    checkPool('prefixes.v6', c.prefixes.v6, 6, origins, add, warnings);
  }

  // DNS.
  if (ok('dns.magic_dns', 'dns.base_domain') && c.dns.magic_dns && c.dns.base_domain === '') {
    add('dns.magic_dns', `is true${byDefault('dns.magic_dns')} but dns.base_domain is empty; MagicDNS needs a base domain`);
  }
  if (ok('dns.base_domain') && c.dns.base_domain !== '') {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(c.dns.base_domain)) {
      add('dns.base_domain', `"${c.dns.base_domain}" is not a valid domain name`);
    } else if (ok('server_url')) {
      checkBaseDomain(c.server_url, c.dns.base_domain, add);
    }
  }
  if (ok('dns.override_local_dns', 'dns.nameservers.global') && c.dns.override_local_dns && c.dns.nameservers.global.length === 0) {
    add(
      'dns.override_local_dns',
      `is true${byDefault('dns.override_local_dns')} but dns.nameservers.global is empty; list at least one resolver or set it to false`,
    );
  }
  if (c.dns.extra_records.length > 0 && c.dns.extra_records_path !== '') {
    add('dns.extra_records_path', 'cannot be used together with dns.extra_records; keep one of them');
  }
  const resolvers = [
    ...c.dns.nameservers.global.map((r, i) => ({ path: `dns.nameservers.global[${i}]`, r })),
    ...Object.entries(c.dns.nameservers.split).flatMap(([d, list]) => list.map((r, i) => ({ path: `dns.nameservers.split.${d}[${i}]`, r }))),
  ];
  for (const { path, r } of resolvers) {
    if (!parseIp(r) && !/^https?:\/\/\S+$/.test(r)) {
      warnings.push(`${path}: "${r}" is neither an IP address nor a DNS-over-HTTPS URL; clients cannot use it`);
    }
  }

  // Mutually exclusive pairs.
  if (c.oidc.client_secret !== '' && c.oidc.client_secret_path !== '') {
    add('oidc.client_secret_path', 'cannot be used together with oidc.client_secret; keep one of them');
  }
  if (c.oidc.issuer !== '' && c.oidc.client_id === '') add('oidc.client_id', 'must be set when oidc.issuer is set');
  if (c.tls_letsencrypt_hostname !== '' && (c.tls_cert_path !== '' || c.tls_key_path !== '')) {
    add('tls_letsencrypt_hostname', 'set either tls_letsencrypt_hostname or tls_cert_path/tls_key_path, not both');
  } else if ((c.tls_cert_path === '') !== (c.tls_key_path === '')) {
    add(c.tls_cert_path === '' ? 'tls_key_path' : 'tls_cert_path', 'tls_cert_path and tls_key_path must be set together');
  }
  if (c.tls_letsencrypt_hostname !== '' && c.tls_letsencrypt_challenge_type === 'TLS-ALPN-01' && !c.listen_addr.endsWith(':443')) {
    warnings.push(
      `tls_letsencrypt_challenge_type${describeLine(origins.loc('tls_letsencrypt_challenge_type'))}: TLS-ALPN-01 needs the server reachable on port 443, but listen_addr is "${c.listen_addr}"`,
    );
  }

  // Timing bounds.
  const eph = 'node.ephemeral.inactivity_timeout';
  if (ok(eph) && c.node.ephemeral.inactivity_timeout <= MIN_EPHEMERAL_MS) {
    add(eph, `must be more than 65s (a client's keep-alive is 60s), got ${formatDuration(c.node.ephemeral.inactivity_timeout)}`);
  }
  const { probe_interval: interval, probe_timeout: timeout } = c.node.routes.ha;
  if (ok('node.routes.ha.probe_interval', 'node.routes.ha.probe_timeout') && interval > 0) {
    if (interval < 2000) add('node.routes.ha.probe_interval', `must be 0 (off) or at least 2s, got ${formatDuration(interval)}`);
    if (timeout < 1000) add('node.routes.ha.probe_timeout', `must be at least 1s, got ${formatDuration(timeout)}`);
    else if (timeout >= interval) {
      add('node.routes.ha.probe_timeout', `must be less than node.routes.ha.probe_interval (${formatDuration(interval)}), got ${formatDuration(timeout)}`);
    }
  }
  if (ok('tuning.node_store_batch_size') && c.tuning.node_store_batch_size <= 0) {
    add('tuning.node_store_batch_size', `must be positive, got ${c.tuning.node_store_batch_size}`);
  }
  if (ok('tuning.node_store_batch_timeout') && c.tuning.node_store_batch_timeout <= 0) add('tuning.node_store_batch_timeout', 'must be positive, got 0s');

  // The embedded DERP relay.
  const derp = c.derp.server;
  if (ok('derp.server.enabled') && derp.enabled) {
    if (derp.stun_listen_addr === '') add('derp.server.stun_listen_addr', 'must be set when derp.server.enabled is true');
    if (derp.private_key_path === '') add('derp.server.private_key_path', 'must be set when derp.server.enabled is true');
    else if (derp.private_key_path === c.noise.private_key_path) {
      add('derp.server.private_key_path', 'must differ from noise.private_key_path; the relay and the control server need different keys');
    }
    if (!derp.automatically_add_embedded_derp_region && c.derp.paths.length === 0) {
      add('derp.server.automatically_add_embedded_derp_region', 'is false, so the embedded region must be described in a file listed in derp.paths, which is empty');
    }
  }
  if (derp.ipv4 !== '' && parseIp(derp.ipv4)?.family !== 4) add('derp.server.ipv4', `"${derp.ipv4}" is not an IPv4 address`);
  if (derp.ipv6 !== '' && parseIp(derp.ipv6)?.family !== 6) add('derp.server.ipv6', `"${derp.ipv6}" is not an IPv6 address`);

  // Storage.
  if (ok('database.type', 'database.sqlite.path') && c.database.type === 'sqlite' && c.database.sqlite.path === '') {
    add('database.sqlite.path', 'must be set when database.type is sqlite');
  }
}

type Add = (path: string, why: string, loc?: Location) => void;

function checkFormat(spec: KeySpec, value: unknown, origins: Origins, add: Add): void {
  const raw = origins.raw(spec.path);
  const items = Array.isArray(value) ? value : [value];
  items.forEach((item, i) => {
    if (typeof item !== 'string' || item === '') return;
    const path = Array.isArray(value) ? `${spec.path}[${i}]` : spec.path;
    const loc = Array.isArray(value) && raw?.kind === 'seq' ? raw.items[i]?.loc : origins.loc(spec.path);
    const why = formatProblem(spec, item);
    if (why) add(path, why, loc);
  });
}

function formatProblem(spec: KeySpec, text: string): string | undefined {
  switch (spec.format) {
    case 'http_url':
      if (!/^https?:\/\//.test(text)) return `"${text}" must start with http:// or https://`;
      if (!URL.canParse(text) || new URL(text).hostname === '') return `"${text}" is not a valid URL`;
      return undefined;
    case 'host_port':
      return isHostPort(text) ? undefined : `"${text}" is not a host:port address (for example 127.0.0.1:8080 or :8080)`;
    case 'cidr': {
      const prefix = parsePrefix(text);
      if (!prefix) return `"${text}" is not a CIDR prefix (for example 10.0.0.0/8)`;
      if (spec.path === 'trusted_proxies' && prefix.bits === 0) {
        return `"${text}" would trust every address; 0.0.0.0/0 and ::/0 are not allowed, list only your proxies`;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function isHostPort(text: string): boolean {
  const cut = text.lastIndexOf(':');
  if (cut < 0) return false;
  const host = text.slice(0, cut);
  const port = text.slice(cut + 1);
  const portOk = /^\d{1,5}$/.test(port) ? Number(port) <= 65535 : /^[a-z][a-z0-9-]*$/i.test(port);
  if (!portOk) return false;
  if (host.startsWith('[')) return host.endsWith(']') && parseIp(host.slice(1, -1))?.family === 6;
  return !host.includes(':') && !/\s/.test(host);
}

function checkPool(path: string, text: string, family: 4 | 6, origins: Origins, add: Add, warnings: string[]): void {
  if (text === '') return;
  const prefix = parsePrefix(text);
  if (!prefix) return; // already reported by the cidr format check
  if (prefix.family !== family) {
    add(path, `"${text}" is not an IPv${family} prefix`);
    return;
  }
  const range = family === 4 ? CGNAT_RANGE : TAILSCALE_ULA_RANGE;
  if (!prefixContains(range, prefix)) {
    const wanted = family === 4 ? '100.64.0.0/10' : 'fd7a:115c:a1e0::/48';
    warnings.push(
      `${path}${describeLine(origins.loc(path))}: ${text} is outside ${wanted}; Tailscale clients are built for that range only, so this setup is unsupported`,
    );
  }
}

/** MagicDNS takes over base_domain, so the control server must not live at or under it. */
function checkBaseDomain(serverUrl: string, baseDomain: string, add: Add): void {
  if (!URL.canParse(serverUrl)) return;
  const host = new URL(serverUrl).hostname.toLowerCase().replace(/\.$/, '');
  const base = baseDomain.toLowerCase().replace(/\.$/, '');
  if (host === base) {
    add('dns.base_domain', `must not be the server_url host (${host}): MagicDNS would take that name over and clients would lose the server`);
  } else if (host.endsWith(`.${base}`)) {
    add('dns.base_domain', `must not be a parent of the server_url host (${host}): MagicDNS would take that name over and clients would lose the server`);
  }
}
