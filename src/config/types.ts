// The typed shape of a loaded configuration. Key names are the YAML keys of headscale 0.29's
// config.yaml, nested the same way, so `config.database.sqlite.path` is `database.sqlite.path`
// in the file. Durations are milliseconds, file modes are numbers (0o770), everything else is
// the plain JSON value. The table in schema.ts describes the same keys; a test keeps the two in step.

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'panic';

/** A static DNS record handed to clients (`dns.extra_records`). */
export interface DnsRecord {
  name: string;
  type: string;
  value: string;
}

export interface DerpServerConfig {
  enabled: boolean;
  region_id: number;
  region_code: string;
  region_name: string;
  verify_clients: boolean;
  stun_listen_addr: string;
  private_key_path: string;
  automatically_add_embedded_derp_region: boolean;
  ipv4: string;
  ipv6: string;
  stun: { enabled: boolean };
}

export interface DerpConfig {
  server: DerpServerConfig;
  urls: string[];
  paths: string[];
  auto_update_enabled: boolean;
  /** ms */
  update_frequency: number;
}

export interface NodeConfig {
  /** ms; 0 means registrations get no default expiry */
  expiry: number;
  ephemeral: { /** ms */ inactivity_timeout: number };
  routes: { ha: { /** ms; 0 disables probing */ probe_interval: number; /** ms */ probe_timeout: number } };
}

export interface DatabaseConfig {
  /** `sqlite3` in the file is reported as `sqlite`. */
  type: 'sqlite' | 'postgres';
  debug: boolean;
  gorm: {
    prepare_stmt: boolean;
    parameterized_queries: boolean;
    skip_err_record_not_found: boolean;
    /** ms, as an integer, as headscale writes it */
    slow_threshold: number;
  };
  sqlite: { path: string; write_ahead_log: boolean; wal_autocheckpoint: number };
  postgres: {
    host: string;
    port: number;
    name: string;
    user: string;
    pass: string;
    max_open_conns: number;
    max_idle_conns: number;
    conn_max_idle_time_secs: number;
    /** "true", "false", or a libpq sslmode such as "verify-full" */
    ssl: string;
  };
}

export interface DnsConfig {
  magic_dns: boolean;
  base_domain: string;
  override_local_dns: boolean;
  nameservers: { global: string[]; split: Record<string, string[]> };
  search_domains: string[];
  extra_records: DnsRecord[];
  extra_records_path: string;
}

export interface OidcConfig {
  only_start_if_oidc_is_available: boolean;
  issuer: string;
  client_id: string;
  /** When client_secret_path is set, the loader fills this from that file. */
  client_secret: string;
  client_secret_path: string;
  scope: string[];
  email_verified_required: boolean;
  extra_params: Record<string, string>;
  allowed_domains: string[];
  allowed_users: string[];
  allowed_groups: string[];
  use_expiry_from_token: boolean;
  pkce: { enabled: boolean; method: 'plain' | 'S256' };
}

export interface TuningConfig {
  /** ms */
  notifier_send_timeout: number;
  /** ms */
  batch_change_delay: number;
  node_mapsession_buffered_chan_size: number;
  /** 0 in the file means three quarters of the CPU cores; the loader puts the real number here. */
  batcher_workers: number;
  /** ms */
  register_cache_expiration: number;
  register_cache_max_entries: number;
  node_store_batch_size: number;
  /** ms */
  node_store_batch_timeout: number;
}

export interface Config {
  server_url: string;
  listen_addr: string;
  metrics_listen_addr: string;
  grpc_listen_addr: string;
  grpc_allow_insecure: boolean;
  trusted_proxies: string[];
  disable_check_updates: boolean;
  unix_socket: string;
  /** numeric mode, e.g. 0o770 */
  unix_socket_permission: number;
  noise: { private_key_path: string };
  prefixes: { v4: string; v6: string; allocation: 'sequential' | 'random' };
  derp: DerpConfig;
  node: NodeConfig;
  database: DatabaseConfig;
  acme_url: string;
  acme_email: string;
  tls_letsencrypt_hostname: string;
  tls_letsencrypt_cache_dir: string;
  tls_letsencrypt_challenge_type: 'HTTP-01' | 'TLS-ALPN-01';
  tls_letsencrypt_listen: string;
  tls_cert_path: string;
  tls_key_path: string;
  log: { level: LogLevel; format: 'text' | 'json' };
  policy: { mode: 'file' | 'database'; path: string };
  dns: DnsConfig;
  oidc: OidcConfig;
  logtail: { enabled: boolean };
  taildrop: { enabled: boolean };
  auto_update: { enabled: boolean };
  cli: { address: string; api_key: string; /** ms */ timeout: number; insecure: boolean };
  tuning: TuningConfig;
}

/** What loadConfig hands back. */
export interface LoadedConfig {
  config: Config;
  /** Absolute path of the file that was read; null when the built-in defaults were used. */
  source: string | null;
  /** Things worth telling the operator that do not stop the server (unknown keys, old aliases). */
  warnings: string[];
}
