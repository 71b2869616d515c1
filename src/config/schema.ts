// The one table of every configuration key Switchboard understands: headscale 0.29's config.yaml,
// key for key. Each entry gives the dotted path, the value type, the default used when the key is
// absent (headscale's code default, not its example file), whether the value is a secret, and one
// line of documentation. Loading, env overrides, validation, dumping and the example file all read
// this table; nothing else lists keys.

import { parseDuration } from '../lib/duration.js';
import type { DnsRecord } from './types.js';

export type ValueType =
  | 'string'
  | 'bool'
  | 'int'
  | 'duration' // Go ("1h30m") or Prometheus ("90d") text; stored as ms
  | 'enum' // a string from `values`
  | 'file_mode' // octal text such as "0770"; stored as a number
  | 'string_list'
  | 'string_map' // { key: string }
  | 'string_list_map' // { key: [string] }
  | 'dns_records' // [{ name, type, value }]
  | 'bool_or_string'; // true/false or free text, stored as text (database.postgres.ssl)

export type ConfigValue = string | number | boolean | string[] | Record<string, string> | Record<string, string[]> | DnsRecord[];

/** Extra syntax checked on string values (or on each item of a list). */
export type ValueFormat = 'http_url' | 'host_port' | 'cidr';

export interface KeySpec {
  readonly path: string;
  readonly type: ValueType;
  /** Value used when the key is absent, in Config form (ms, numeric modes). undefined: required. */
  readonly default: ConfigValue | undefined;
  readonly doc: string;
  readonly secret?: boolean;
  /** A filesystem path: a relative value is resolved against the config file's directory. */
  readonly isPath?: boolean;
  readonly values?: readonly string[];
  /** Accepted spellings mapped to the canonical one (enum only). */
  readonly aliases?: Readonly<Record<string, string>>;
  readonly min?: number;
  readonly max?: number;
  readonly format?: ValueFormat;
}

type Extra = Omit<KeySpec, 'path' | 'type' | 'default' | 'doc'>;

function key(path: string, type: ValueType, def: ConfigValue | undefined, doc: string, extra: Extra = {}): KeySpec {
  return { path, type, default: def, doc, ...extra };
}

function ms(text: string): number {
  const value = parseDuration(text);
  if (value === undefined) throw new Error(`bad duration in schema: ${text}`);
  return value;
}

const REQUIRED = undefined;
const PORT = { min: 0, max: 65535 } as const;
const NON_NEGATIVE = { min: 0 } as const;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'panic'] as const;

export const SCHEMA: readonly KeySpec[] = [
  // Core and listeners
  key('server_url', 'string', REQUIRED, 'URL clients use to reach this server; must start with http:// or https://.', { format: 'http_url' }),
  key('listen_addr', 'string', REQUIRED, 'Address of the main HTTP(S) listener: control protocol, web pages, REST API.', { format: 'host_port' }),
  key('metrics_listen_addr', 'string', '', 'Address of the /metrics and /debug listener; empty turns it off.', { format: 'host_port' }),
  key('grpc_listen_addr', 'string', ':50443', 'Address of the remote gRPC admin listener (started only with TLS or grpc_allow_insecure).', { format: 'host_port' }),
  key('grpc_allow_insecure', 'bool', false, 'Start the remote gRPC listener even without TLS.'),
  key('trusted_proxies', 'string_list', [], 'CIDRs of reverse proxies whose client-IP headers are believed; /0 ranges are refused.', { format: 'cidr' }),
  key('disable_check_updates', 'bool', false, 'Skip the CLI check for a newer release.'),
  key('unix_socket', 'string', '/var/run/headscale/headscale.sock', 'Local admin socket the CLI talks to without credentials.', { isPath: true }),
  key('unix_socket_permission', 'file_mode', 0o770, 'File mode given to the admin socket, in octal.'),
  key('noise.private_key_path', 'string', REQUIRED, 'Noise (TS2021) private key of the server; created when missing.', { isPath: true }),

  // Address pools
  key('prefixes.v4', 'string', '', 'IPv4 pool for nodes; should sit inside 100.64.0.0/10.', { format: 'cidr' }),
  key('prefixes.v6', 'string', '', 'IPv6 pool for nodes; should sit inside fd7a:115c:a1e0::/48.', { format: 'cidr' }),
  key('prefixes.allocation', 'enum', 'sequential', 'How free addresses are picked from the pools.', { values: ['sequential', 'random'] }),

  // DERP relays
  key('derp.server.enabled', 'bool', false, 'Run the embedded DERP relay and STUN listener.'),
  key('derp.server.region_id', 'int', 0, 'Region ID of the embedded relay; it wins over a colliding region from other sources.', NON_NEGATIVE),
  key('derp.server.region_code', 'string', '', 'Short region code clients show for the embedded relay.'),
  key('derp.server.region_name', 'string', '', 'Human name of the embedded relay region.'),
  key('derp.server.verify_clients', 'bool', true, 'Admit only node keys this server knows to the embedded relay.'),
  key('derp.server.stun_listen_addr', 'string', '', 'UDP address of the STUN listener; required when the relay is on.', { format: 'host_port' }),
  key('derp.server.private_key_path', 'string', '', 'Private key of the embedded relay; created when missing; must not be the Noise key.', { isPath: true }),
  key('derp.server.automatically_add_embedded_derp_region', 'bool', true, 'Add the embedded region to the DERP map; when false, describe it in derp.paths.'),
  key('derp.server.ipv4', 'string', '', 'Public IPv4 address published for the embedded relay.'),
  key('derp.server.ipv6', 'string', '', 'Public IPv6 address published for the embedded relay.'),
  key('derp.server.stun.enabled', 'bool', true, 'Legacy switch kept for compatibility; STUN follows stun_listen_addr.'),
  key('derp.urls', 'string_list', [], 'URLs of JSON DERP maps to fetch and merge.', { format: 'http_url' }),
  key('derp.paths', 'string_list', [], 'Local YAML DERP map files to merge.', { isPath: true }),
  key('derp.auto_update_enabled', 'bool', false, 'Refetch derp.urls and derp.paths periodically and push changes to clients.'),
  key('derp.update_frequency', 'duration', ms('3h'), 'How often the DERP sources are refetched.'),

  // Node lifecycle
  key('node.expiry', 'duration', 0, 'Default key expiry for new registrations of user-owned nodes; 0 means none.'),
  key('node.ephemeral.inactivity_timeout', 'duration', ms('120s'), 'Ephemeral nodes are deleted after being offline this long; must exceed 65s.'),
  key('node.routes.ha.probe_interval', 'duration', ms('10s'), 'Interval between health pings of HA subnet routers; 0 turns probing off.'),
  key('node.routes.ha.probe_timeout', 'duration', ms('5s'), 'How long a health ping may take; at least 1s and less than the interval.'),

  // Database
  key('database.type', 'enum', REQUIRED, 'Database engine.', { values: ['sqlite', 'sqlite3', 'postgres'], aliases: { sqlite3: 'sqlite' } }),
  key('database.debug', 'bool', false, 'Log every SQL statement (needs log.level debug or trace).'),
  key('database.gorm.prepare_stmt', 'bool', false, 'Reuse prepared statements.'),
  key('database.gorm.parameterized_queries', 'bool', false, 'Keep parameter values out of logged SQL.'),
  key('database.gorm.skip_err_record_not_found', 'bool', false, 'Do not log lookups that found nothing.'),
  key('database.gorm.slow_threshold', 'int', 0, 'Queries slower than this many milliseconds are logged.', NON_NEGATIVE),
  key('database.sqlite.path', 'string', '', 'SQLite database file.', { isPath: true }),
  key('database.sqlite.write_ahead_log', 'bool', true, 'Use SQLite write-ahead logging.'),
  key('database.sqlite.wal_autocheckpoint', 'int', 1000, 'Pages between automatic WAL checkpoints; 0 turns them off.', NON_NEGATIVE),
  key('database.postgres.host', 'string', '', 'PostgreSQL host name, or the directory of its unix socket.'),
  key('database.postgres.port', 'int', 0, 'PostgreSQL port; 0 for a unix socket.', PORT),
  key('database.postgres.name', 'string', '', 'PostgreSQL database name.'),
  key('database.postgres.user', 'string', '', 'PostgreSQL user.'),
  key('database.postgres.pass', 'string', '', 'PostgreSQL password.', { secret: true }),
  key('database.postgres.max_open_conns', 'int', 10, 'Upper bound on open PostgreSQL connections.', NON_NEGATIVE),
  key('database.postgres.max_idle_conns', 'int', 10, 'Upper bound on idle PostgreSQL connections.', NON_NEGATIVE),
  key('database.postgres.conn_max_idle_time_secs', 'int', 3600, 'Seconds an idle PostgreSQL connection is kept.', NON_NEGATIVE),
  key('database.postgres.ssl', 'bool_or_string', 'false', 'TLS to PostgreSQL: true, false, or a libpq sslmode.'),

  // TLS and ACME
  key('acme_url', 'string', '', 'ACME directory; empty means the Let\'s Encrypt production directory.', { format: 'http_url' }),
  key('acme_email', 'string', '', 'Contact e-mail registered with the ACME account.'),
  key('tls_letsencrypt_hostname', 'string', '', 'Host name to obtain a certificate for; setting it turns ACME on.'),
  key('tls_letsencrypt_cache_dir', 'string', '/var/www/.cache', 'Directory where ACME certificates are kept.', { isPath: true }),
  key('tls_letsencrypt_challenge_type', 'enum', 'HTTP-01', 'ACME challenge to answer.', { values: ['HTTP-01', 'TLS-ALPN-01'] }),
  key('tls_letsencrypt_listen', 'string', '', 'Address that answers the HTTP-01 challenge.', { format: 'host_port' }),
  key('tls_cert_path', 'string', '', 'PEM certificate for the main listener (instead of ACME).', { isPath: true }),
  key('tls_key_path', 'string', '', 'PEM private key matching tls_cert_path.', { isPath: true }),

  // Logging and policy
  key('log.level', 'enum', 'info', 'Least severe log level written.', { values: LOG_LEVELS }),
  key('log.format', 'enum', 'text', 'Log line format.', { values: ['text', 'json'] }),
  key('policy.mode', 'enum', 'file', 'Where the access policy lives: a file, or the database (edited through the API).', { values: ['file', 'database'] }),
  key('policy.path', 'string', '', 'HuJSON policy file in file mode; empty means no policy (everyone may reach everyone).', { isPath: true }),

  // DNS
  key('dns.magic_dns', 'bool', true, 'Give nodes MagicDNS names under dns.base_domain.'),
  key('dns.base_domain', 'string', '', 'Tailnet DNS suffix; must not be the server_url host or a parent of it.'),
  key('dns.override_local_dns', 'bool', true, 'Make clients use the global nameservers instead of their own; needs at least one.'),
  key('dns.nameservers.global', 'string_list', [], 'Resolvers for all queries: IP addresses or DNS-over-HTTPS URLs.'),
  key('dns.nameservers.split', 'string_list_map', {}, 'Resolvers for particular domains (split DNS): domain to list of resolvers.'),
  key('dns.search_domains', 'string_list', [], 'Extra search domains, after the base domain.'),
  key('dns.extra_records', 'dns_records', [], 'Static records ({name, type, value}) served to clients; clients honour A and AAAA.'),
  key('dns.extra_records_path', 'string', '', 'JSON file of extra records, reloaded when it changes; excludes dns.extra_records.', { isPath: true }),

  // Client features
  key('logtail.enabled', 'bool', false, 'Let clients upload their logs to Tailscale Inc.'),
  key('taildrop.enabled', 'bool', true, 'Offer Taildrop file sharing to nodes.'),
  key('auto_update.enabled', 'bool', false, 'Ask clients to turn on their own automatic updates.'),

  // OIDC
  key('oidc.only_start_if_oidc_is_available', 'bool', true, 'Refuse to start when the OIDC provider cannot be reached.'),
  key('oidc.issuer', 'string', '', 'OIDC issuer URL; setting it turns OIDC login on.', { format: 'http_url' }),
  key('oidc.client_id', 'string', '', 'OIDC client ID.'),
  key('oidc.client_secret', 'string', '', 'OIDC client secret.', { secret: true }),
  key('oidc.client_secret_path', 'string', '', 'File holding the OIDC client secret ($VAR expanded); excludes oidc.client_secret.', { isPath: true }),
  key('oidc.scope', 'string_list', ['openid', 'profile', 'email'], 'Scopes requested from the provider.'),
  key('oidc.email_verified_required', 'bool', true, 'Accept only e-mail addresses the provider marks verified.'),
  key('oidc.extra_params', 'string_map', {}, 'Extra query parameters for the authorization URL.'),
  key('oidc.allowed_domains', 'string_list', [], 'Only users with an e-mail in these domains may log in.'),
  key('oidc.allowed_users', 'string_list', [], 'Only these e-mail addresses may log in.'),
  key('oidc.allowed_groups', 'string_list', [], 'Only members of these groups (groups claim) may log in.'),
  key('oidc.use_expiry_from_token', 'bool', false, 'Expire node keys when the ID token expires, instead of node.expiry.'),
  key('oidc.pkce.enabled', 'bool', false, 'Use PKCE in the authorization code flow.'),
  key('oidc.pkce.method', 'enum', 'S256', 'PKCE challenge method.', { values: ['plain', 'S256'] }),

  // CLI client
  key('cli.address', 'string', '', 'host:port of a remote server for the CLI; empty means the local unix socket.', { format: 'host_port' }),
  key('cli.api_key', 'string', '', 'API key the CLI sends to a remote server.', { secret: true }),
  key('cli.timeout', 'duration', ms('5s'), 'Deadline for one CLI command.'),
  key('cli.insecure', 'bool', false, 'Let the CLI skip TLS certificate checks.'),

  // Tuning
  key('tuning.notifier_send_timeout', 'duration', ms('800ms'), 'Longest wait to hand an update to one client session.'),
  key('tuning.batch_change_delay', 'duration', ms('800ms'), 'Window in which changes are merged before they go out.'),
  key('tuning.node_mapsession_buffered_chan_size', 'int', 30, 'Queued updates per client session.', { min: 1 }),
  key('tuning.batcher_workers', 'int', 0, 'Workers building map updates; 0 means three quarters of the CPU cores (at least 1).', NON_NEGATIVE),
  key('tuning.register_cache_expiration', 'duration', ms('15m'), 'Lifetime of a pending registration; 0 means 15m.'),
  key('tuning.register_cache_max_entries', 'int', 1024, 'Most pending registrations kept; 0 means 1024.', NON_NEGATIVE),
  key('tuning.node_store_batch_size', 'int', 100, 'Node writes gathered before the in-memory view is rebuilt; must be positive.'),
  key('tuning.node_store_batch_timeout', 'duration', ms('500ms'), 'Longest wait before a partial batch of node writes is applied; must be positive.'),
];

const BY_PATH: ReadonlyMap<string, KeySpec> = new Map(SCHEMA.map((spec) => [spec.path, spec]));

const GROUPS: ReadonlySet<string> = new Set(
  SCHEMA.flatMap((spec) => {
    const parts = spec.path.split('.');
    return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('.'));
  }),
);

export function specFor(path: string): KeySpec | undefined {
  return BY_PATH.get(path);
}

/** True for a path that only holds other keys, such as `derp` or `derp.server`. */
export function isGroupPath(path: string): boolean {
  return GROUPS.has(path);
}

/** Map- and object-list-typed keys cannot be written as one environment variable. */
export function isFileOnly(spec: KeySpec): boolean {
  return spec.type === 'string_map' || spec.type === 'string_list_map' || spec.type === 'dns_records';
}

/** How a value type reads in messages and documentation. */
export function describeType(spec: KeySpec): string {
  switch (spec.type) {
    case 'enum':
      return `one of ${(spec.values ?? []).join(', ')}`;
    case 'string_list':
      return 'a list of strings';
    case 'string_map':
      return 'a map of strings';
    case 'string_list_map':
      return 'a map of string lists';
    case 'dns_records':
      return 'a list of {name, type, value} records';
    case 'file_mode':
      return 'an octal file mode such as "0770"';
    case 'bool_or_string':
      return 'true, false or a string';
    case 'duration':
      return 'a duration such as 30s, 1h30m or 90d';
    case 'bool':
      return 'true or false';
    case 'int':
      return 'an integer';
    case 'string':
      return 'a string';
  }
}
