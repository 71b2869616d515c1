// The composition root: the only place that wires the pieces together, and the owner of start
// and stop order. Start: store → state → keys → admin socket → main listener. Stop: reverse.

import type { Config } from './config/index.js';
import { Store, type DatabaseOptions } from './store/index.js';
import { State } from './state/index.js';
import { loadOrCreatePrivateKey, publicKeyOf } from './crypto/keys.js';
import { createLogger, type Logger } from './lib/logger.js';
import { startAdminSocket, type AdminSocketServer } from './server/admin/socket-server.js';
import { startMainListener, type MainListener } from './server/http/main-listener.js';
import { VERSION } from './version.js';

export interface RunningServer {
  state: State;
  http: MainListener;
  admin: AdminSocketServer;
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

export async function startServer(config: Config, logger?: Logger): Promise<RunningServer> {
  const log = logger ?? createLogger({ level: config.log.level, format: config.log.format });
  const noiseKey = loadOrCreatePrivateKey(config.noise.private_key_path, 'noise private key');
  const store = await Store.open(databaseOptions(config), VERSION);
  const started: Array<() => Promise<void>> = [() => store.close()];
  const stop = async () => {
    for (const close of started.reverse()) await close().catch(() => {});
  };
  try {
    log.info('database ready', { database: store.description });
    const state = await State.load(store, { baseDomain: config.dns.base_domain });
    const admin = await startAdminSocket(state, config.unix_socket, config.unix_socket_permission, log);
    started.push(() => admin.close());
    const http = await startMainListener(config.listen_addr, {
      noisePublicKey: publicKeyOf(noiseKey),
      ping: () => store.ping(),
      logger: log,
    });
    started.push(() => http.close());
    return { state, http, admin, logger: log, close: stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
