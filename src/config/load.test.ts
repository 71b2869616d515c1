import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSwitchboardError } from '../lib/errors.js';
import { BASE_YAML, loadYaml, tempDir } from './fixtures.test.js';
import { loadConfig } from './load.js';

const withUrl = (url: string): string => BASE_YAML.replace('https://hs.example.com', url);

/** Five places that could each hold a config; each names itself through server_url. */
function fiveSources() {
  const cwd = tempDir({ 'config.yaml': withUrl('https://cwd.example.com') });
  const system = tempDir({ 'config.yaml': withUrl('https://system.example.com') });
  const other = tempDir({
    'cli.yaml': withUrl('https://cli.example.com'),
    'sb.yaml': withUrl('https://sb.example.com'),
    'hs.yaml': withUrl('https://hs-env.example.com'),
  });
  return { cwd, system, other };
}

test('lookup order: --config, SWITCHBOARD_CONFIG, HEADSCALE_CONFIG, ./config.yaml, system dir', () => {
  const { cwd, system, other } = fiveSources();
  const env = { SWITCHBOARD_CONFIG: join(other, 'sb.yaml'), HEADSCALE_CONFIG: join(other, 'hs.yaml') };
  const url = (opts: Parameters<typeof loadConfig>[0]) => loadConfig({ systemDir: system, cwd, ...opts }).config.server_url;

  assert.equal(url({ configPath: join(other, 'cli.yaml'), env }), 'https://cli.example.com');
  assert.equal(url({ env }), 'https://sb.example.com');
  assert.equal(url({ env: { HEADSCALE_CONFIG: env.HEADSCALE_CONFIG } }), 'https://hs-env.example.com');
  assert.equal(url({ env: {} }), 'https://cwd.example.com');
  assert.equal(url({ env: {}, cwd: tempDir() }), 'https://system.example.com');
});

test('source is the absolute path of the file used; a relative --config is taken from cwd', () => {
  const dir = tempDir({ 'my.yaml': BASE_YAML });
  const loaded = loadConfig({ configPath: 'my.yaml', cwd: dir, env: {}, systemDir: tempDir() });
  assert.equal(loaded.source, join(dir, 'my.yaml'));
});

test('config.json is found too, and JSON is read as YAML', () => {
  const json = JSON.stringify({
    server_url: 'https://json.example.com',
    listen_addr: ':8080',
    noise: { private_key_path: '/k' },
    prefixes: { v6: 'fd7a:115c:a1e0::/48' },
    database: { type: 'sqlite3', sqlite: { path: '/db' } },
    dns: { magic_dns: false, override_local_dns: false },
  });
  const dir = tempDir({ 'config.json': json });
  const loaded = loadConfig({ cwd: dir, env: {}, systemDir: tempDir() });
  assert.equal(loaded.source, join(dir, 'config.json'));
  assert.equal(loaded.config.server_url, 'https://json.example.com');
  assert.equal(loaded.config.database.type, 'sqlite'); // sqlite3 is the same engine
});

test('a named config file that does not exist is ERR_CONFIG_NOT_FOUND', () => {
  const dir = tempDir({ 'config.yaml': BASE_YAML });
  const missing = join(dir, 'nope.yaml');
  for (const opts of [{ configPath: missing, env: {} }, { env: { SWITCHBOARD_CONFIG: missing } }, { env: { HEADSCALE_CONFIG: missing } }]) {
    assert.throws(
      () => loadConfig({ cwd: dir, systemDir: dir, ...opts }),
      (err: unknown) => isSwitchboardError(err, 'ERR_CONFIG_NOT_FOUND') && err.message === `config file not found: ${missing}`,
    );
  }
});

test('no file anywhere: the built-in zero-config defaults, relative to cwd', () => {
  const cwd = tempDir();
  const { config, source, warnings } = loadConfig({ cwd, env: {}, systemDir: tempDir() });
  assert.equal(source, null);
  assert.deepEqual(warnings, []);
  assert.equal(config.server_url, 'http://127.0.0.1:8080');
  assert.equal(config.listen_addr, '127.0.0.1:8080');
  assert.equal(config.metrics_listen_addr, '127.0.0.1:9090');
  assert.equal(config.grpc_listen_addr, '127.0.0.1:50443');
  assert.equal(config.noise.private_key_path, join(cwd, 'data/noise_private.key'));
  assert.deepEqual(config.database, {
    ...config.database,
    type: 'sqlite',
    sqlite: { path: join(cwd, 'data/db.sqlite'), write_ahead_log: true, wal_autocheckpoint: 1000 },
  });
  assert.deepEqual(config.prefixes, { v4: '100.64.0.0/10', v6: 'fd7a:115c:a1e0::/48', allocation: 'sequential' });
  assert.deepEqual(config.derp.server, {
    enabled: true,
    region_id: 999,
    region_code: 'switchboard',
    region_name: 'Switchboard Embedded DERP',
    verify_clients: true,
    stun_listen_addr: '127.0.0.1:3478',
    private_key_path: join(cwd, 'data/derp_server_private.key'),
    automatically_add_embedded_derp_region: true,
    ipv4: '',
    ipv6: '',
    stun: { enabled: true },
  });
  assert.deepEqual(config.derp.urls, []);
  assert.equal(config.dns.magic_dns, true);
  assert.equal(config.dns.base_domain, 'switchboard.internal');
  assert.equal(config.dns.override_local_dns, false);
  assert.deepEqual(config.dns.nameservers.global, []);
  assert.equal(config.unix_socket, join(cwd, 'data/switchboard.sock'));
  assert.equal(config.unix_socket_permission, 0o770);
  assert.deepEqual(config.policy, { mode: 'file', path: '' });
  assert.deepEqual(config.log, { level: 'info', format: 'text' });
});

test('env overrides apply to the built-in defaults and are validated with them', () => {
  const cwd = tempDir();
  const { config } = loadConfig({ cwd, env: { SWITCHBOARD_LISTEN_ADDR: '127.0.0.1:9999' }, systemDir: tempDir() });
  assert.equal(config.listen_addr, '127.0.0.1:9999');
  assert.throws(
    () => loadConfig({ cwd, env: { SWITCHBOARD_DNS_OVERRIDE_LOCAL_DNS: 'true' }, systemDir: tempDir() }),
    (err: unknown) =>
      isSwitchboardError(err, 'ERR_CONFIG_INVALID') &&
      err.message.startsWith('invalid configuration in the built-in defaults') &&
      err.message.includes('dns.override_local_dns (from env SWITCHBOARD_DNS_OVERRIDE_LOCAL_DNS): is true but'),
  );
});

test('keys a file leaves out get headscale code defaults', () => {
  const { config } = loadYaml(BASE_YAML);
  assert.equal(config.metrics_listen_addr, '');
  assert.equal(config.grpc_listen_addr, ':50443');
  assert.equal(config.unix_socket, '/var/run/headscale/headscale.sock');
  assert.equal(config.unix_socket_permission, 0o770);
  assert.equal(config.prefixes.v6, '');
  assert.equal(config.prefixes.allocation, 'sequential');
  assert.equal(config.derp.server.enabled, false);
  assert.equal(config.derp.server.verify_clients, true);
  assert.equal(config.derp.update_frequency, 3 * 3_600_000);
  assert.equal(config.node.expiry, 0);
  assert.equal(config.node.ephemeral.inactivity_timeout, 120_000);
  assert.deepEqual(config.node.routes.ha, { probe_interval: 10_000, probe_timeout: 5_000 });
  assert.equal(config.database.sqlite.write_ahead_log, true);
  assert.equal(config.database.postgres.max_open_conns, 10);
  assert.equal(config.database.postgres.conn_max_idle_time_secs, 3600);
  assert.equal(config.database.postgres.ssl, 'false');
  assert.equal(config.tls_letsencrypt_cache_dir, '/var/www/.cache');
  assert.equal(config.tls_letsencrypt_challenge_type, 'HTTP-01');
  assert.equal(config.dns.magic_dns, true);
  assert.equal(config.dns.override_local_dns, true);
  assert.deepEqual(config.oidc.scope, ['openid', 'profile', 'email']);
  assert.equal(config.oidc.pkce.method, 'S256');
  assert.equal(config.oidc.email_verified_required, true);
  assert.equal(config.taildrop.enabled, true);
  assert.equal(config.cli.timeout, 5000);
  assert.equal(config.tuning.batch_change_delay, 800);
  assert.equal(config.tuning.node_store_batch_size, 100);
  assert.equal(config.tuning.register_cache_expiration, 15 * 60_000);
  assert.ok(config.tuning.batcher_workers >= 1);
});

test('relative paths are resolved against the config file directory', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'etc'));
  const yaml = `${BASE_YAML}policy:\n  path: ./policy.hujson\nderp:\n  paths: [derp.yaml, /abs/derp.yaml]\n`;
  writeFileSync(join(dir, 'etc', 'config.yaml'), yaml);
  const { config } = loadConfig({ configPath: join(dir, 'etc', 'config.yaml'), env: {}, cwd: '/', systemDir: tempDir() });
  assert.equal(config.noise.private_key_path, join(dir, 'etc', 'noise.key'));
  assert.equal(config.database.sqlite.path, join(dir, 'etc', 'db.sqlite'));
  assert.equal(config.policy.path, join(dir, 'etc', 'policy.hujson'));
  assert.deepEqual(config.derp.paths, [join(dir, 'etc', 'derp.yaml'), '/abs/derp.yaml']);
  assert.equal(config.tls_cert_path, '', 'empty paths stay empty');
});

test('oidc.client_secret_path is read (with $VAR expansion) into oidc.client_secret', () => {
  const creds = tempDir({ oidc_secret: '  s3cret\n' });
  const yaml = `${BASE_YAML}oidc:\n  issuer: https://id.example.com\n  client_id: sb\n  client_secret_path: \${CREDENTIALS_DIRECTORY}/oidc_secret\n`;
  const { config } = loadYaml(yaml, { CREDENTIALS_DIRECTORY: creds });
  assert.equal(config.oidc.client_secret, 's3cret');
  assert.equal(config.oidc.client_secret_path, join(creds, 'oidc_secret'));
});

test('an unreadable oidc.client_secret_path is reported with its line', () => {
  const yaml = `${BASE_YAML}oidc:\n  client_secret_path: /nonexistent/secret\n`;
  assert.throws(
    () => loadYaml(yaml),
    (err: unknown) =>
      isSwitchboardError(err, 'ERR_CONFIG_INVALID') &&
      err.message.includes('oidc.client_secret_path (line 16, column 3): cannot read "/nonexistent/secret": ENOENT'),
  );
});
