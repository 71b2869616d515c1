// The admin service on the local unix socket (`unix_socket`), as gRPC over HTTP/2 with no
// authentication: whoever may open the socket file (mode `unix_socket_permission`) is an admin.

import fs from 'node:fs';
import net from 'node:net';
import http2 from 'node:http2';
import path from 'node:path';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { HeadscaleService } from '../../gen/headscale/v1/headscale_pb.js';
import { SwitchboardError, describeError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { State } from '../../state/index.js';
import { createAdminService, guard, type AdminServiceOptions } from './service.js';
import { withSafeAuthority } from './safe-handler.js';

export interface AdminSocketServer {
  path: string;
  close(): Promise<void>;
}

export async function startAdminSocket(
  state: State,
  socketPath: string,
  mode: number,
  logger: Logger,
  options?: AdminServiceOptions,
): Promise<AdminSocketServer> {
  await removeStaleSocket(socketPath);
  fs.mkdirSync(path.dirname(socketPath), { recursive: true });
  const handler = connectNodeAdapter({
    routes: (router) => router.service(HeadscaleService, guard(createAdminService(state, options), logger)),
  });
  const server = http2.createServer(withSafeAuthority(handler));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new SwitchboardError('ERR_ADMIN_SOCKET', `cannot listen on unix socket ${socketPath}: ${describeError(err)}`, { cause: err })),
    );
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, mode);
  logger.info('admin service listening', { socket: socketPath, mode: mode.toString(8).padStart(4, '0') });
  return {
    path: socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A socket file left by a server that died is removed; one that a live server answers on is a
 * conflict, reported instead of stolen.
 */
async function removeStaleSocket(socketPath: string): Promise<void> {
  if (!fs.existsSync(socketPath)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const c = net.connect(socketPath);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (alive) {
    throw new SwitchboardError('ERR_ADMIN_SOCKET', `another server is already listening on unix socket ${socketPath}`);
  }
  fs.rmSync(socketPath, { force: true });
}
