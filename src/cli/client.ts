// The CLI's connection to a running server: gRPC over the local unix socket (`unix_socket`).
// The CLI never opens the database itself; everything goes through the server.

import fs from 'node:fs';
import net from 'node:net';
import { createClient, ConnectError, Code, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { HeadscaleService } from '../gen/headscale/v1/headscale_pb.js';
import { SwitchboardError } from '../lib/errors.js';

export type AdminClient = Client<typeof HeadscaleService>;

export function socketClient(socketPath: string, timeoutMs: number): AdminClient {
  if (!fs.existsSync(socketPath)) {
    throw new SwitchboardError(
      'ERR_ADMIN_SOCKET',
      `cannot reach the Switchboard server: unix socket ${socketPath} does not exist (is "switchboard serve" running with this config?)`,
    );
  }
  const transport = createGrpcTransport({
    baseUrl: 'http://localhost',
    defaultTimeoutMs: timeoutMs,
    nodeOptions: { createConnection: () => net.connect(socketPath) },
  });
  return createClient(HeadscaleService, transport);
}

/** Turns a failed call into a one-line error: the server's own message, or where it failed. */
export function describeCallError(err: unknown, socketPath: string): Error {
  if (!(err instanceof ConnectError)) return err as Error;
  if (err.code === Code.Unavailable || err.code === Code.Unknown) {
    const cause = (err.cause as NodeJS.ErrnoException | undefined)?.code ?? '';
    if (cause === 'ECONNREFUSED' || cause === 'ENOENT') {
      return new SwitchboardError('ERR_ADMIN_SOCKET', `cannot reach the Switchboard server on unix socket ${socketPath}: nothing is listening (is "switchboard serve" running?)`);
    }
    if (cause === 'EACCES') {
      return new SwitchboardError('ERR_ADMIN_SOCKET', `permission denied on unix socket ${socketPath}: run as a user in the socket's group`);
    }
  }
  if (err.code === Code.DeadlineExceeded) {
    return new SwitchboardError('ERR_ADMIN_SOCKET', `the Switchboard server on ${socketPath} did not answer in time`);
  }
  return new Error(err.rawMessage);
}
