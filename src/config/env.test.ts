import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_YAML, loadYaml, problemLines } from './fixtures.test.js';
import { envKeyName, readEnvOverrides } from './env.js';
import { SCHEMA } from './schema.js';

test('env names are the dotted path upper-cased with underscores, and no two keys share one', () => {
  assert.equal(envKeyName('database.sqlite.path'), 'DATABASE_SQLITE_PATH');
  assert.equal(envKeyName('dns.base_domain'), 'DNS_BASE_DOMAIN');
  const names = SCHEMA.map((s) => envKeyName(s.path));
  assert.equal(new Set(names).size, names.length);
});

test('SWITCHBOARD_ beats HEADSCALE_, and both beat the file', () => {
  const yaml = BASE_YAML.replace('base_domain: tailnet.internal', 'base_domain: from.file');
  assert.equal(loadYaml(yaml).config.dns.base_domain, 'from.file');
  assert.equal(loadYaml(yaml, { HEADSCALE_DNS_BASE_DOMAIN: 'from.hs' }).config.dns.base_domain, 'from.hs');
  const both = { HEADSCALE_DNS_BASE_DOMAIN: 'from.hs', SWITCHBOARD_DNS_BASE_DOMAIN: 'from.sb' };
  assert.equal(loadYaml(yaml, both).config.dns.base_domain, 'from.sb');
});

test('an empty env value counts as unset', () => {
  const env = { SWITCHBOARD_DNS_BASE_DOMAIN: '', HEADSCALE_DNS_BASE_DOMAIN: 'from.hs' };
  assert.equal(loadYaml(BASE_YAML, env).config.dns.base_domain, 'from.hs');
  assert.equal(loadYaml(BASE_YAML, { SWITCHBOARD_LISTEN_ADDR: '' }).config.listen_addr, '127.0.0.1:8080');
});

test('env values are coerced per type', () => {
  const { config } = loadYaml(BASE_YAML, {
    SWITCHBOARD_DATABASE_SQLITE_PATH: 'other.sqlite',
    SWITCHBOARD_DERP_SERVER_VERIFY_CLIENTS: '0',
    SWITCHBOARD_LOGTAIL_ENABLED: 'TRUE',
    SWITCHBOARD_TAILDROP_ENABLED: 'false',
    SWITCHBOARD_AUTO_UPDATE_ENABLED: '1',
    SWITCHBOARD_DATABASE_POSTGRES_PORT: '6543',
    SWITCHBOARD_NODE_EXPIRY: '90d',
    SWITCHBOARD_CLI_TIMEOUT: '1m30s',
    SWITCHBOARD_DNS_NAMESERVERS_GLOBAL: '9.9.9.9  149.112.112.112\n2620:fe::fe',
    SWITCHBOARD_UNIX_SOCKET_PERMISSION: '0700',
    SWITCHBOARD_LOG_LEVEL: 'debug',
    SWITCHBOARD_DATABASE_TYPE: 'sqlite3',
    HEADSCALE_OIDC_CLIENT_SECRET: 'from-env',
  });
  assert.equal(config.database.sqlite.path, '/srv/switchboard/other.sqlite');
  assert.equal(config.derp.server.verify_clients, false);
  assert.equal(config.logtail.enabled, true);
  assert.equal(config.taildrop.enabled, false);
  assert.equal(config.auto_update.enabled, true);
  assert.equal(config.database.postgres.port, 6543);
  assert.equal(config.node.expiry, 90 * 86_400_000);
  assert.equal(config.cli.timeout, 90_000);
  assert.deepEqual(config.dns.nameservers.global, ['9.9.9.9', '149.112.112.112', '2620:fe::fe']);
  assert.equal(config.unix_socket_permission, 0o700);
  assert.equal(config.log.level, 'debug');
  assert.equal(config.database.type, 'sqlite');
  assert.equal(config.oidc.client_secret, 'from-env');
});

test('an env value that does not parse is an error naming the variable', () => {
  const lines = problemLines(BASE_YAML, {
    SWITCHBOARD_DERP_SERVER_ENABLED: 'yes please',
    HEADSCALE_DATABASE_POSTGRES_PORT: 'five',
    SWITCHBOARD_NODE_EXPIRY: 'forever',
    SWITCHBOARD_PREFIXES_ALLOCATION: 'shuffled',
  });
  // Env problems come after file problems, in schema order.
  assert.deepEqual(lines, [
    '  prefixes.allocation (from env SWITCHBOARD_PREFIXES_ALLOCATION): "shuffled" is not allowed; expected one of sequential, random',
    '  derp.server.enabled (from env SWITCHBOARD_DERP_SERVER_ENABLED): expected true or false, got "yes please"',
    '  node.expiry (from env SWITCHBOARD_NODE_EXPIRY): "forever" is not a duration (use forms like 30s, 1h30m or 90d)',
    '  database.postgres.port (from env HEADSCALE_DATABASE_POSTGRES_PORT): expected an integer, got "five"',
  ]);
});

test('map-typed keys are file-only: their env variables are ignored with a warning', () => {
  const { config, warnings } = loadYaml(BASE_YAML, { SWITCHBOARD_DNS_NAMESERVERS_SPLIT: 'corp=10.0.0.1' });
  assert.deepEqual(config.dns.nameservers.split, {});
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /SWITCHBOARD_DNS_NAMESERVERS_SPLIT is ignored.*dns\.nameservers\.split/);
});

test('old keys set through the environment are caught too', () => {
  const overrides = readEnvOverrides({ HEADSCALE_RANDOMIZE_CLIENT_PORT: 'true' });
  assert.deepEqual(overrides.removed.map((r) => r.path), ['randomize_client_port']);
  const lines = problemLines(BASE_YAML, { HEADSCALE_RANDOMIZE_CLIENT_PORT: 'true' });
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? '', /^ {2}randomize_client_port \(from env HEADSCALE_RANDOMIZE_CLIENT_PORT\): was removed in headscale 0\.29/);
});

test('the deprecated ephemeral alias works from the environment', () => {
  const { config, warnings } = loadYaml(BASE_YAML, { HEADSCALE_EPHEMERAL_NODE_INACTIVITY_TIMEOUT: '10m' });
  assert.equal(config.node.ephemeral.inactivity_timeout, 600_000);
  assert.deepEqual(warnings, [
    '"ephemeral_node_inactivity_timeout" (from env HEADSCALE_EPHEMERAL_NODE_INACTIVITY_TIMEOUT) is deprecated; use "node.ephemeral.inactivity_timeout" instead',
  ]);
});
