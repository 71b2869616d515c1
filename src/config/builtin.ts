// The zero-config document used when no config file is found: one machine, no root, everything
// on loopback and under ./data (relative to the working directory). It goes through exactly the
// same loading, env overrides and validation as a file would; keys it leaves out take the code
// defaults from schema.ts.

export const BUILTIN_LABEL = 'the built-in defaults (no config file found)';

export const BUILTIN_CONFIG_YAML = `
server_url: http://127.0.0.1:8080
listen_addr: 127.0.0.1:8080
metrics_listen_addr: 127.0.0.1:9090
grpc_listen_addr: 127.0.0.1:50443
noise:
  private_key_path: ./data/noise_private.key
prefixes:
  v4: 100.64.0.0/10
  v6: fd7a:115c:a1e0::/48
  allocation: sequential
derp:
  server:
    enabled: true
    region_id: 999
    region_code: switchboard
    region_name: Switchboard Embedded DERP
    stun_listen_addr: 127.0.0.1:3478
    private_key_path: ./data/derp_server_private.key
    automatically_add_embedded_derp_region: true
  urls: []
database:
  type: sqlite
  sqlite:
    path: ./data/db.sqlite
    write_ahead_log: true
dns:
  magic_dns: true
  base_domain: switchboard.internal
  override_local_dns: false
  nameservers:
    global: []
tls_letsencrypt_cache_dir: ./data/cache
unix_socket: ./data/switchboard.sock
unix_socket_permission: "0770"
policy:
  mode: file
  path: ""
log:
  level: info
  format: text
`;
