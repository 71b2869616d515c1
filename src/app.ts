// The composition root: the only place that wires the pieces together, and the owner of start
// and stop order. Start: store → state → keys → admin socket → main listener. Stop: reverse.

import type { Config } from './config/index.js';
import { Store, type DatabaseOptions } from './store/index.js';
import { State, type StateOptions } from './state/index.js';
import { loadOrCreatePrivateKey, publicKeyOf } from './crypto/keys.js';
import { createLogger, type Logger } from './lib/logger.js';
import { startAdminSocket, type AdminSocketServer } from './server/admin/socket-server.js';
import { startMainListener, type MainListener } from './server/http/main-listener.js';
import { acceptTs2021, isTs2021Request } from './protocol/noise/upgrade.js';
import { X25519Key } from './protocol/noise/primitives.js';
import { formatKey } from './crypto/keys.js';
import { Mapper } from './mapper/mapper.js';
import { Batcher } from './mapper/batcher.js';
import { buildDnsConfig } from './mapper/dns-config.js';
import type { DERPMap } from './tailcfg/types.js';
import { ControlServer } from './server/control/control-server.js';
import { EphemeralReaper } from './state/ephemeral-reaper.js';
import { ExpiryWatch } from './state/expiry-watch.js';
import { AutoApprover } from './state/auto-approver.js';
import fs from 'node:fs';
import type http from 'node:http';
import { startEmbeddedDerp } from './server/derp/embedded.js';
import { DerpSources } from './mapper/derp-sources.js';
import { ExtraRecordsFile } from './mapper/extra-records.js';
import { serveVerify } from './server/http/verify.js';
import type { Duplex } from 'node:stream';
import { VERSION } from './version.js';
import { ApiKeyAuthenticator } from './server/admin/api-key-auth.js';
import { createAdminService, guard, type AdminServiceOptions } from './server/admin/service.js';
import { startAdminTcp, type AdminTcpServer } from './server/admin/grpc-tcp.js';
import { createRestApi } from './server/api/rest.js';

export interface RunningServer {
  state: State;
  /** Re-reads the policy file (SIGHUP); a refused file keeps the running policy. */
  reloadPolicy(): void;
  batcher: Batcher;
  http: MainListener;
  admin: AdminSocketServer;
  /** gRPC on grpc_listen_addr, when TLS is configured or grpc_allow_insecure is set. */
  grpc: AdminTcpServer | undefined;
  logger: Logger;
  close(): Promise<void>;
}

export function databaseOptions(config: Config): DatabaseOptions {
  const db = config.database;
  if (db.type === 'postgres') {
    return {
      type: 'postgres',
      host: db.postgres.host,
      port: db.postgres.port || null,
      name: db.postgres.name,
      user: db.postgres.user,
      pass: db.postgres.pass,
      maxOpenConns: db.postgres.max_open_conns,
      connMaxIdleTimeSecs: db.postgres.conn_max_idle_time_secs,
      ssl: db.postgres.ssl === 'true' ? true : db.postgres.ssl === 'false' || db.postgres.ssl === '' ? false : db.postgres.ssl,
    };
  }
  return {
    type: 'sqlite',
    path: db.sqlite.path,
    writeAheadLog: db.sqlite.write_ahead_log,
    walAutocheckpoint: db.sqlite.wal_autocheckpoint,
  };
}

const NO_DERP: DERPMap = { Regions: {} };

/** The certificate the main port also answers TLS with: the DERP one, or the configured one. */
function tlsFor(config: Config, derp: { tls: { cert: string | Buffer; key: string | Buffer } } | undefined) {
  if (derp) return { tls: derp.tls };
  if (config.tls_cert_path && config.tls_key_path) {
    return { tls: { cert: fs.readFileSync(config.tls_cert_path), key: fs.readFileSync(config.tls_key_path) } };
  }
  return {};
}

/** Upper bound of the change batching window: headscale's 800 ms default is too slow for us. */
const BATCH_WINDOW_MS = 50;

/** Capabilities every node gets on its self node (headscale's baseline). */
function capMapFor(config: Config): Record<string, unknown[] | null> {
  const caps: Record<string, unknown[] | null> = {
    'https://tailscale.com/cap/is-admin': [],
    'https://tailscale.com/cap/ssh': [],
    'default-auto-update': [config.auto_update.enabled],
  };
  if (config.taildrop.enabled) caps['https://tailscale.com/cap/file-sharing'] = [];
  return caps;
}

export function stateOptions(config: Config): StateOptions {
  return {
    baseDomain: config.dns.base_domain,
    serverUrl: config.server_url,
    nodeExpiryMs: config.node.expiry,
    prefixes: { v4: config.prefixes.v4, v6: config.prefixes.v6 },
    allocation: config.prefixes.allocation,
    policy: { mode: config.policy.mode, path: config.policy.path },
  };
}

export async function startServer(config: Config, logger?: Logger): Promise<RunningServer> {
  const log = logger ?? createLogger({ level: config.log.level, format: config.log.format });
  const noiseKey = loadOrCreatePrivateKey(config.noise.private_key_path, 'noise private key');
  const noiseKeyObject = X25519Key.fromPrivate(noiseKey); // imported once, not per handshake
  const store = await Store.open(databaseOptions(config), VERSION);
  const started: Array<() => Promise<void>> = [() => store.close()];
  const stop = async () => {
    for (const close of started.reverse()) await close().catch(() => {});
  };
  try {
    log.info('database ready', { database: store.description });
    const state = await State.load(store, stateOptions(config));
    started.push(() => state.flush());
    const apiAuth = new ApiKeyAuthenticator(state.apiKeys);
    const adminOptions: AdminServiceOptions = {
      policy: { mode: config.policy.mode, path: config.policy.path },
      onApiKeysChanged: () => apiAuth.invalidate(),
    };
    const admin = await startAdminSocket(state, config.unix_socket, config.unix_socket_permission, log, adminOptions);
    started.push(() => admin.close());
    const adminService = guard(createAdminService(state, adminOptions), log);
    const grpcTls = config.tls_cert_path && config.tls_key_path
      ? { cert: fs.readFileSync(config.tls_cert_path), key: fs.readFileSync(config.tls_key_path) }
      : undefined;
    const grpc = grpcTls || config.grpc_allow_insecure
      ? await startAdminTcp({ addr: config.grpc_listen_addr, service: adminService, auth: apiAuth, logger: log, tls: grpcTls })
      : undefined;
    if (grpc) started.push(() => grpc.close());
    const restApi = createRestApi({ service: adminService, auth: apiAuth, logger: log, version: VERSION });

    let sources: DerpSources | undefined;
    const extraRecords = config.dns.extra_records_path ? new ExtraRecordsFile(config.dns.extra_records_path, log) : undefined;
    const mapper = new Mapper(state, {
      baseDomain: config.dns.base_domain,
      domain: new URL(config.server_url).hostname,
      dnsConfig: () => buildDnsConfig(config.dns, extraRecords?.records ?? config.dns.extra_records),
      derpMap: () => sources?.map ?? NO_DERP,
      capMap: capMapFor(config),
      // Tests set a tiny block size so that real clients decode many-frame maps.
      peerBlockSize: Number(process.env.SWITCHBOARD_DEBUG_PEER_BLOCK_SIZE) || undefined,
    });
    const batcher = new Batcher(state, mapper, Math.min(config.tuning.batch_change_delay, BATCH_WINDOW_MS));
    extraRecords?.start(() => batcher.broadcast({ dns: true }));
    if (extraRecords) started.push(async () => extraRecords.close());
    const reaper = new EphemeralReaper(state.nodes, config.node.ephemeral.inactivity_timeout, log);
    reaper.scheduleAll();
    const expiry = new ExpiryWatch(state.nodes, state.changes);
    new AutoApprover(state.nodes, state.policy, state.changes, log);
    const control = new ControlServer({ state, mapper, batcher, reaper, logger: log });
    started.push(async () => {
      batcher.close();
      control.close();
      reaper.close();
      expiry.close();
    });

    const derp = config.derp.server.enabled
      ? await startEmbeddedDerp(config, (key) => state.nodes.findByNodeKey(formatKey('nodekey', key)) !== undefined, log)
      : undefined;
    if (derp) started.push(() => derp.close());

    const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if (derp?.upgrade(req, socket, head)) return;
      if (!isTs2021Request(req)) {
        socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nunsupported upgrade\n');
        return;
      }
      try {
        const conn = acceptTs2021(req, socket, head, { serverPrivateKey: noiseKeyObject });
        conn.stream.on('error', () => {});
        control.accept(conn.stream, formatKey('mkey', conn.machineKey));
      } catch (err) {
        log.debug('ts2021 upgrade refused', { error: err instanceof Error ? err.message : String(err) });
      }
    };
    const http = await startMainListener(config.listen_addr, {
      noisePublicKey: publicKeyOf(noiseKey),
      ping: () => store.ping(),
      logger: log,
      onUpgrade,
      extraRoute: (req, res) => derp?.route(req, res) === true || serveVerify(req, res, state) || restApi(req, res),
      ...tlsFor(config, derp),
    });
    started.push(() => http.close());
    sources = new DerpSources({
      paths: config.derp.paths,
      urls: config.derp.urls,
      embedded: derp && config.derp.server.automatically_add_embedded_derp_region ? derp.region(http.port) : undefined,
      autoUpdate: config.derp.auto_update_enabled,
      updateFrequencyMs: config.derp.update_frequency,
      logger: log,
    });
    await sources.start(() => batcher.broadcast({ derp: true }));
    const derpSources = sources;
    started.push(async () => derpSources.close());
    const reloadPolicy = () => {
      const r = state.policy.reloadFile();
      if (r.ok) log.info('policy reloaded');
      else log.error('policy refused, the running policy stays in force', { error: r.error });
    };
    if (config.policy.mode === 'file' && config.policy.path) {
      fs.watchFile(config.policy.path, { interval: 1000, persistent: false }, reloadPolicy);
      started.push(async () => fs.unwatchFile(config.policy.path, reloadPolicy));
    }
    return { state, batcher, http, admin, grpc, logger: log, reloadPolicy, close: stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
