import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_YAML, loadYaml } from './fixtures.test.js';
import { isFileOnly, SCHEMA, specFor } from './schema.js';
import { REMOVED_KEYS } from './removed.js';

/** Every key headscale 0.29.2 reads from its config (every viper Get or SetDefault call in its source). */
const HEADSCALE_029_KEYS = `acme_email acme_url auto_update.enabled cli.address cli.api_key cli.insecure cli.timeout
database.debug database.gorm.parameterized_queries database.gorm.prepare_stmt database.gorm.skip_err_record_not_found
database.gorm.slow_threshold database.postgres.conn_max_idle_time_secs database.postgres.host database.postgres.max_idle_conns
database.postgres.max_open_conns database.postgres.name database.postgres.pass database.postgres.port database.postgres.ssl
database.postgres.user database.sqlite.path database.sqlite.wal_autocheckpoint database.sqlite.write_ahead_log database.type
derp.auto_update_enabled derp.paths derp.server.automatically_add_embedded_derp_region derp.server.enabled derp.server.ipv4
derp.server.ipv6 derp.server.private_key_path derp.server.region_code derp.server.region_id derp.server.region_name
derp.server.stun.enabled derp.server.stun_listen_addr derp.server.verify_clients derp.update_frequency derp.urls
disable_check_updates dns.base_domain dns.extra_records dns.extra_records_path dns.magic_dns dns.nameservers.global
dns.nameservers.split dns.override_local_dns dns.search_domains grpc_allow_insecure grpc_listen_addr listen_addr log.format
log.level logtail.enabled metrics_listen_addr node.ephemeral.inactivity_timeout node.expiry node.routes.ha.probe_interval
node.routes.ha.probe_timeout noise.private_key_path oidc.allowed_domains oidc.allowed_groups oidc.allowed_users oidc.client_id
oidc.client_secret oidc.client_secret_path oidc.email_verified_required oidc.extra_params oidc.issuer
oidc.only_start_if_oidc_is_available oidc.pkce.enabled oidc.pkce.method oidc.scope oidc.use_expiry_from_token policy.mode
policy.path prefixes.allocation prefixes.v4 prefixes.v6 server_url taildrop.enabled tls_cert_path tls_key_path
tls_letsencrypt_cache_dir tls_letsencrypt_challenge_type tls_letsencrypt_hostname tls_letsencrypt_listen trusted_proxies
tuning.batch_change_delay tuning.batcher_workers tuning.node_mapsession_buffered_chan_size tuning.node_store_batch_size
tuning.node_store_batch_timeout tuning.notifier_send_timeout tuning.register_cache_expiration tuning.register_cache_max_entries
unix_socket unix_socket_permission`.split(/\s+/);

test('the schema has exactly headscale 0.29 keys, each once', () => {
  const paths = SCHEMA.map((s) => s.path);
  assert.equal(new Set(paths).size, paths.length, 'duplicate path');
  assert.deepEqual([...paths].sort(), [...HEADSCALE_029_KEYS].sort());
});

test('every entry is documented and its default fits its type', () => {
  for (const spec of SCHEMA) {
    const where = spec.path;
    assert.ok(spec.doc.length > 10 && !spec.doc.includes('\n'), `${where}: one-line doc`);
    const d = spec.default;
    if (d === undefined) continue; // required key
    switch (spec.type) {
      case 'string':
      case 'bool_or_string':
        assert.equal(typeof d, 'string', where);
        break;
      case 'bool':
        assert.equal(typeof d, 'boolean', where);
        break;
      case 'int':
      case 'duration':
      case 'file_mode':
        assert.ok(Number.isInteger(d), where);
        break;
      case 'enum':
        assert.ok(spec.values?.includes(d as string), where);
        break;
      case 'string_list':
      case 'dns_records':
        assert.ok(Array.isArray(d), where);
        break;
      case 'string_map':
      case 'string_list_map':
        assert.ok(typeof d === 'object' && !Array.isArray(d), where);
        break;
    }
  }
});

test('secrets are the credentials headscale hides, and map types are file-only', () => {
  const secrets = SCHEMA.filter((s) => s.secret).map((s) => s.path);
  assert.deepEqual(secrets.sort(), ['cli.api_key', 'database.postgres.pass', 'oidc.client_secret']);
  const fileOnly = SCHEMA.filter(isFileOnly).map((s) => s.path);
  assert.deepEqual(fileOnly.sort(), ['dns.extra_records', 'dns.nameservers.split', 'oidc.extra_params']);
});

test('the loaded Config has exactly the schema keys as leaves', () => {
  const { config } = loadYaml(BASE_YAML);
  const leaves: string[] = [];
  const walk = (node: unknown, prefix: string): void => {
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && !specFor(path)) walk(v, path);
      else leaves.push(path);
    }
  };
  walk(config, '');
  assert.deepEqual(leaves, SCHEMA.map((s) => s.path));
});

test('old keys never collide with current ones', () => {
  for (const old of REMOVED_KEYS) assert.equal(specFor(old.path), undefined, old.path);
});
