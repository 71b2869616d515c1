import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_YAML, loadYaml, problemLines } from './fixtures.test.js';

const plus = (...lines: string[]): string => `${BASE_YAML}${lines.join('\n')}\n`;

test('keys headscale made fatal are errors naming the key, its line and what to do instead', () => {
  const lines = problemLines(
    plus(
      'randomize_client_port: true',
      'acl_policy_path: /etc/headscale/acl.hujson',
      'oidc:',
      '  expiry: 180d',
      '  strip_email_domain: true',
      '  map_legacy_users: false',
      'dns_config:',
      '  magic_dns: true',
      '  domains: [corp.example.com]',
      '  use_username_in_magic_dns: false',
      '  something_else: 1',
    ),
  );
  const expected: [string, RegExp][] = [
    ['  randomize_client_port (line 15, column 1): ', /"randomizeClientPort": true at the top level of the policy/],
    ['  acl_policy_path (line 16, column 1): ', /was renamed "policy\.path"/],
    ['  oidc.expiry (line 18, column 3): ', /node\.expiry/],
    ['  oidc.strip_email_domain (line 19, column 3): ', /removed in headscale 0\.26/],
    ['  oidc.map_legacy_users (line 20, column 3): ', /removed in headscale 0\.26/],
    ['  dns_config.magic_dns (line 22, column 3): ', /was renamed "dns\.magic_dns"/],
    ['  dns_config.domains (line 23, column 3): ', /was renamed "dns\.search_domains"/],
    ['  dns_config.use_username_in_magic_dns (line 24, column 3): ', /no longer supported/],
    ['  dns_config.something_else (line 25, column 3): ', /old dns_config section, which was replaced by dns/],
  ];
  assert.equal(lines.length, expected.length, lines.join('\n'));
  expected.forEach(([start, why], i) => {
    assert.ok(lines[i]?.startsWith(start), `line ${i}: ${lines[i]}`);
    assert.match(lines[i] ?? '', why);
  });
});

test('dns.use_username_in_magic_dns is fatal', () => {
  const lines = problemLines(BASE_YAML.replace('dns:\n', 'dns:\n  use_username_in_magic_dns: true\n'));
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? '', /^ {2}dns\.use_username_in_magic_dns \(line 12, column 3\): is no longer supported/);
});

test('a renamed key next to its replacement is ignored with a warning', () => {
  const dns = loadYaml(plus('dns_config:', '  nameservers: [8.8.8.8]'));
  assert.deepEqual(dns.config.dns.nameservers.global, ['1.1.1.1']);
  assert.deepEqual(dns.warnings, [
    '"dns_config.nameservers" (line 16) is ignored: it was renamed "dns.nameservers.global", which is also set; delete the old key',
  ]);

  const { config, warnings } = loadYaml(plus('policy:', '  path: /etc/sb/policy.hujson', 'acl_policy_path: /old.hujson'));
  assert.equal(config.policy.path, '/etc/sb/policy.hujson');
  assert.deepEqual(warnings, ['"acl_policy_path" (line 17) is ignored: it was renamed "policy.path", which is also set; delete the old key']);
});

test('ephemeral_node_inactivity_timeout still works, with a deprecation warning', () => {
  const { config, warnings } = loadYaml(plus('ephemeral_node_inactivity_timeout: 30m'));
  assert.equal(config.node.ephemeral.inactivity_timeout, 30 * 60_000);
  assert.deepEqual(warnings, ['"ephemeral_node_inactivity_timeout" (line 15) is deprecated; use "node.ephemeral.inactivity_timeout" instead']);
});

test('the new ephemeral key wins over the old one', () => {
  const yaml = plus('ephemeral_node_inactivity_timeout: 30m', 'node:', '  ephemeral:', '    inactivity_timeout: 10m');
  const { config, warnings } = loadYaml(yaml);
  assert.equal(config.node.ephemeral.inactivity_timeout, 10 * 60_000);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /^"ephemeral_node_inactivity_timeout" \(line 15\) is ignored/);
});

test('a bad value under the old ephemeral key is reported under the old key', () => {
  assert.deepEqual(problemLines(plus('ephemeral_node_inactivity_timeout: 30s')), [
    "  ephemeral_node_inactivity_timeout (line 15, column 1): must be more than 65s (a client's keep-alive is 60s), got 30s",
  ]);
});
