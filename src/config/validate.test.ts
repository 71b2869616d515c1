import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_YAML, FILE, invalidMessage, loadYaml, problemLines } from './fixtures.test.js';

/** BASE_YAML (14 lines) plus more lines; the first added line is line 15. */
const plus = (...lines: string[]): string => `${BASE_YAML}${lines.join('\n')}\n`;

/** Exactly one problem, and it is this line. */
function onlyProblem(yaml: string, expected: string, env: Record<string, string> = {}): void {
  assert.deepEqual(problemLines(yaml, env), [expected]);
}

test('an empty file reports every missing requirement at once', () => {
  assert.deepEqual(problemLines(''), [
    '  server_url: is required but not set',
    '  listen_addr: is required but not set',
    '  noise.private_key_path: is required but not set',
    '  database.type: is required but not set',
    '  prefixes: at least one of prefixes.v4 and prefixes.v6 must be set',
    '  dns.magic_dns: is true (the default) but dns.base_domain is empty; MagicDNS needs a base domain',
    '  dns.override_local_dns: is true (the default) but dns.nameservers.global is empty; list at least one resolver or set it to false',
  ]);
});

test('several problems in one file come back together, in line order', () => {
  const yaml = plus('log:', '  level: loud', '  format: xml', 'policy:', '  mode: git', 'tls_letsencrypt_challenge_type: DNS-01');
  assert.deepEqual(problemLines(yaml), [
    '  log.level (line 16, column 10): "loud" is not allowed; expected one of trace, debug, info, warn, error, fatal, panic',
    '  log.format (line 17, column 11): "xml" is not allowed; expected one of text, json',
    '  policy.mode (line 19, column 9): "git" is not allowed; expected one of file, database',
    '  tls_letsencrypt_challenge_type (line 20, column 33): "DNS-01" is not allowed; expected one of HTTP-01, TLS-ALPN-01',
  ]);
});

test('enums: database.type, prefixes.allocation, oidc.pkce.method', () => {
  onlyProblem(
    BASE_YAML.replace('type: sqlite', 'type: mysql'),
    '  database.type (line 8, column 9): "mysql" is not allowed; expected one of sqlite, sqlite3, postgres',
  );
  onlyProblem(
    BASE_YAML.replace('  v4: 100.64.0.0/10', '  v4: 100.64.0.0/10\n  allocation: next'),
    '  prefixes.allocation (line 7, column 15): "next" is not allowed; expected one of sequential, random',
  );
  onlyProblem(plus('oidc:', '  pkce:', '    method: S512'), '  oidc.pkce.method (line 17, column 13): "S512" is not allowed; expected one of plain, S256');
  assert.equal(loadYaml(BASE_YAML.replace('type: sqlite', 'type: postgres')).config.database.type, 'postgres');
});

test('type errors name the key and where its value is', () => {
  assert.deepEqual(
    problemLines(
      plus(
        'grpc_allow_insecure: sometimes',
        'database_x: 1',
        'node:',
        '  expiry: 1800',
        '  routes: {ha: {probe_interval: ten seconds}}',
        'trusted_proxies: {a: b}',
        'oidc:',
        '  extra_params: [a, b]',
        '  scope: [openid, [nested]]',
        'derp: 5',
        'unix_socket_permission: rwx',
        'tuning:',
        '  node_mapsession_buffered_chan_size: 2.5',
      ),
    ),
    [
      '  grpc_allow_insecure (line 15, column 22): expected true or false, got "sometimes"',
      '  node.expiry (line 18, column 11): "1800" has no unit; write a duration such as 30s, 15m or 90d',
      '  node.routes.ha.probe_interval (line 19, column 33): "ten seconds" is not a duration (use forms like 30s, 1h30m or 90d)',
      '  trusted_proxies (line 20, column 18): expected a list of strings, got a mapping',
      '  oidc.extra_params (line 22, column 17): expected a map of strings, got a list',
      '  oidc.scope[1] (line 23, column 19): expected a string, got a list',
      '  derp (line 24, column 1): expected a mapping of keys',
      '  unix_socket_permission (line 25, column 25): "rwx" is not an octal file mode such as "0770"',
      '  tuning.node_mapsession_buffered_chan_size (line 27, column 39): expected an integer, got "2.5"',
    ],
  );
});

test('file modes: quoted, bare and 0o forms all read as octal', () => {
  for (const text of ['"0770"', '0770', '0o770', '770']) {
    assert.equal(loadYaml(plus(`unix_socket_permission: ${text}`)).config.unix_socket_permission, 0o770, text);
  }
});

test('CIDRs: prefixes must parse and match their family; trusted_proxies refuses /0', () => {
  onlyProblem(BASE_YAML.replace('v4: 100.64.0.0/10', 'v4: 100.64.0.0/33'), '  prefixes.v4 (line 6, column 3): "100.64.0.0/33" is not a CIDR prefix (for example 10.0.0.0/8)');
  onlyProblem(BASE_YAML.replace('v4: 100.64.0.0/10', 'v4: fd7a:115c:a1e0::/48'), '  prefixes.v4 (line 6, column 3): "fd7a:115c:a1e0::/48" is not an IPv4 prefix');
  assert.deepEqual(problemLines(plus('trusted_proxies:', '  - 10.0.0.0/8', '  - 0.0.0.0/0', '  - ::/0', '  - proxy.lan')), [
    '  trusted_proxies[1] (line 17, column 5): "0.0.0.0/0" would trust every address; 0.0.0.0/0 and ::/0 are not allowed, list only your proxies',
    '  trusted_proxies[2] (line 18, column 5): "::/0" would trust every address; 0.0.0.0/0 and ::/0 are not allowed, list only your proxies',
    '  trusted_proxies[3] (line 19, column 5): "proxy.lan" is not a CIDR prefix (for example 10.0.0.0/8)',
  ]);
});

test('prefixes outside the Tailscale ranges only warn', () => {
  const yaml = BASE_YAML.replace('v4: 100.64.0.0/10', 'v4: 10.0.0.0/8\n  v6: fd00::/8');
  const { warnings, config } = loadYaml(yaml);
  assert.equal(config.prefixes.v4, '10.0.0.0/8');
  assert.equal(warnings.length, 2);
  assert.match(warnings[0] ?? '', /^prefixes\.v4 \(line 6\): 10\.0\.0\.0\/8 is outside 100\.64\.0\.0\/10/);
  assert.match(warnings[1] ?? '', /^prefixes\.v6 \(line 7\): fd00::\/8 is outside fd7a:115c:a1e0::\/48/);
  assert.deepEqual(loadYaml(BASE_YAML.replace('100.64.0.0/10', '100.100.0.0/16')).warnings, []);
});

test('server_url must be http(s)', () => {
  onlyProblem(BASE_YAML.replace('https://hs.example.com', 'hs.example.com'), '  server_url (line 1, column 1): "hs.example.com" must start with http:// or https://');
});

test('dns.base_domain must not be the server_url host nor a parent of it', () => {
  const at = (url: string, base: string) => BASE_YAML.replace('https://hs.example.com', url).replace('tailnet.internal', base);
  onlyProblem(
    at('https://hs.example.com', 'hs.example.com'),
    '  dns.base_domain (line 12, column 3): must not be the server_url host (hs.example.com): MagicDNS would take that name over and clients would lose the server',
  );
  onlyProblem(
    at('https://hs.example.com:8443', 'example.com'),
    '  dns.base_domain (line 12, column 3): must not be a parent of the server_url host (hs.example.com): MagicDNS would take that name over and clients would lose the server',
  );
  assert.equal(loadYaml(at('https://hs.example.com', 'ample.com')).config.dns.base_domain, 'ample.com');
  assert.equal(loadYaml(at('https://example.com', 'ts.example.com')).config.dns.base_domain, 'ts.example.com');
});

test('magic_dns needs a base domain; override_local_dns needs a global nameserver', () => {
  onlyProblem(
    BASE_YAML.replace('  base_domain: tailnet.internal\n', '  magic_dns: true\n'),
    '  dns.magic_dns (line 12, column 3): is true but dns.base_domain is empty; MagicDNS needs a base domain',
  );
  onlyProblem(
    BASE_YAML.replace('    global: [1.1.1.1]', '    global: []\n  override_local_dns: true'),
    '  dns.override_local_dns (line 15, column 3): is true but dns.nameservers.global is empty; list at least one resolver or set it to false',
  );
  const off = BASE_YAML.replace('    global: [1.1.1.1]', '    global: []\n  override_local_dns: false');
  assert.equal(loadYaml(off).config.dns.override_local_dns, false);
});

test('mutually exclusive pairs', () => {
  const records = BASE_YAML.replace('dns:\n', 'dns:\n  extra_records: [{name: a.tailnet.internal, type: A, value: 100.64.0.9}]\n  extra_records_path: records.json\n');
  onlyProblem(records, '  dns.extra_records_path (line 13, column 3): cannot be used together with dns.extra_records; keep one of them');
  onlyProblem(
    plus('oidc:', '  client_secret: abc', '  client_secret_path: /run/secret'),
    '  oidc.client_secret_path (line 17, column 3): cannot be used together with oidc.client_secret; keep one of them',
  );
  onlyProblem(
    plus('tls_letsencrypt_hostname: hs.example.com', 'tls_cert_path: cert.pem', 'tls_key_path: key.pem'),
    '  tls_letsencrypt_hostname (line 15, column 1): set either tls_letsencrypt_hostname or tls_cert_path/tls_key_path, not both',
  );
  onlyProblem(plus('tls_cert_path: cert.pem'), '  tls_cert_path (line 15, column 1): tls_cert_path and tls_key_path must be set together');
});

test('dns.extra_records are typed {name, type, value} records', () => {
  const yaml = BASE_YAML.replace('dns:\n', 'dns:\n  extra_records:\n    - {name: a.tailnet.internal, type: A, value: 100.64.0.9}\n');
  assert.deepEqual(loadYaml(yaml).config.dns.extra_records, [{ name: 'a.tailnet.internal', type: 'A', value: '100.64.0.9' }]);
  const bad = BASE_YAML.replace('dns:\n', 'dns:\n  extra_records:\n    - {name: a, type: A, ttl: 5}\n    - just-a-string\n');
  assert.deepEqual(problemLines(bad), [
    '  dns.extra_records[0] (line 13, column 7): is missing "value"',
    '  dns.extra_records[0].ttl (line 13, column 26): is not a record field (expected name, type, value)',
    '  dns.extra_records[1] (line 14, column 7): expected a {name, type, value} record, got "just-a-string"',
  ]);
});

test('timing bounds: ephemeral timeout, HA probes, tuning batches', () => {
  onlyProblem(plus('node:', '  ephemeral:', '    inactivity_timeout: 65s'), '  node.ephemeral.inactivity_timeout (line 17, column 5): must be more than 65s (a client\'s keep-alive is 60s), got 1m5s');
  assert.equal(loadYaml(plus('node:', '  ephemeral:', '    inactivity_timeout: 66s')).config.node.ephemeral.inactivity_timeout, 66_000);
  assert.deepEqual(problemLines(plus('node:', '  routes:', '    ha:', '      probe_interval: 1s', '      probe_timeout: 500ms')), [
    '  node.routes.ha.probe_interval (line 18, column 7): must be 0 (off) or at least 2s, got 1s',
    '  node.routes.ha.probe_timeout (line 19, column 7): must be at least 1s, got 500ms',
  ]);
  onlyProblem(
    plus('node:', '  routes:', '    ha:', '      probe_interval: 5s', '      probe_timeout: 5s'),
    '  node.routes.ha.probe_timeout (line 19, column 7): must be less than node.routes.ha.probe_interval (5s), got 5s',
  );
  const off = loadYaml(plus('node:', '  routes:', '    ha:', '      probe_interval: 0', '      probe_timeout: 0s'));
  assert.equal(off.config.node.routes.ha.probe_interval, 0);
  assert.deepEqual(problemLines(plus('tuning:', '  node_store_batch_size: 0', '  node_store_batch_timeout: 0s')), [
    '  tuning.node_store_batch_size (line 16, column 3): must be positive, got 0',
    '  tuning.node_store_batch_timeout (line 17, column 3): must be positive, got 0s',
  ]);
});

test('the embedded DERP relay needs a STUN address and its own key', () => {
  onlyProblem(
    plus('derp:', '  server:', '    enabled: true', '    private_key_path: derp.key'),
    '  derp.server.stun_listen_addr: must be set when derp.server.enabled is true',
  );
  onlyProblem(
    plus('derp:', '  server:', '    enabled: true', '    stun_listen_addr: 0.0.0.0:3478', '    private_key_path: ./noise.key'),
    '  derp.server.private_key_path (line 19, column 5): must differ from noise.private_key_path; the relay and the control server need different keys',
  );
});

test('a YAML syntax error is ERR_CONFIG_INVALID with its line and column', () => {
  const message = invalidMessage('server_url: https://a\nlisten_addr: [unclosed\n');
  assert.match(message, new RegExp(`^invalid configuration in ${FILE}:\n {2}line 3, column 1: YAML syntax error: `));
  assert.match(invalidMessage('a: 1\na: 2\n'), /line 2, column 1: YAML syntax error: Map keys must be unique/);
});

test('unknown keys are warnings with their line, not errors', () => {
  const { warnings } = loadYaml(plus('colour: blue', 'derp:', '  server:', '    nickname: relay'));
  assert.deepEqual(warnings, ['unknown configuration key "colour" (line 15) is ignored', 'unknown configuration key "derp.server.nickname" (line 18) is ignored']);
});

test('keys match case-insensitively, like headscale', () => {
  assert.equal(loadYaml(BASE_YAML.replace('listen_addr:', 'Listen_Addr:').replace('127.0.0.1:8080', '127.0.0.1:7070')).config.listen_addr, '127.0.0.1:7070');
});

test('further relations: OIDC client ID, SQLite path, DERP region source, DERP addresses', () => {
  onlyProblem(plus('oidc:', '  issuer: https://id.example.com'), '  oidc.client_id: must be set when oidc.issuer is set');
  onlyProblem(BASE_YAML.replace('  sqlite:\n    path: db.sqlite\n', ''), '  database.sqlite.path: must be set when database.type is sqlite');
  onlyProblem(
    plus('derp:', '  server:', '    enabled: true', '    stun_listen_addr: :3478', '    private_key_path: derp.key', '    automatically_add_embedded_derp_region: false'),
    '  derp.server.automatically_add_embedded_derp_region (line 20, column 5): is false, so the embedded region must be described in a file listed in derp.paths, which is empty',
  );
  assert.deepEqual(problemLines(plus('derp:', '  server:', '    ipv4: 2001:db8::1', '    ipv6: 192.0.2.1')), [
    '  derp.server.ipv4 (line 17, column 5): "2001:db8::1" is not an IPv4 address',
    '  derp.server.ipv6 (line 18, column 5): "192.0.2.1" is not an IPv6 address',
  ]);
});

test('soft findings are warnings: odd nameservers, TLS-ALPN-01 off port 443', () => {
  const ns = loadYaml(BASE_YAML.replace('global: [1.1.1.1]', 'global: [1.1.1.1, "https://dns.nextdns.io/abc", resolver.lan]'));
  assert.deepEqual(ns.warnings, ['dns.nameservers.global[2]: "resolver.lan" is neither an IP address nor a DNS-over-HTTPS URL; clients cannot use it']);
  const alpn = loadYaml(plus('tls_letsencrypt_hostname: hs.example.com', 'tls_letsencrypt_challenge_type: TLS-ALPN-01'));
  assert.equal(alpn.warnings.length, 1);
  assert.match(alpn.warnings[0] ?? '', /^tls_letsencrypt_challenge_type \(line 16\): TLS-ALPN-01 needs the server reachable on port 443/);
  assert.deepEqual(loadYaml(plus('tls_letsencrypt_hostname: hs.example.com', 'tls_letsencrypt_challenge_type: TLS-ALPN-01').replace('127.0.0.1:8080', '0.0.0.0:443')).warnings, []);
});
