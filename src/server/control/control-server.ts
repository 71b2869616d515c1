// The control server inside Noise: every authenticated Noise connection gets its own HTTP/2
// server connection (src/protocol/h2, prior knowledge, no TLS) that knows the machine key the
// handshake proved. Requests are routed by path through the endpoint table.

import type { Duplex } from 'node:stream';
import type { State } from '../../state/index.js';
import type { Mapper } from '../../mapper/mapper.js';
import type { Batcher } from '../../mapper/batcher.js';
import type { Logger } from '../../lib/logger.js';
import type { EphemeralReaper } from '../../state/ephemeral-reaper.js';
import { H2ServerConnection } from '../../protocol/h2/server-connection.js';
import type { H2ServerStream } from '../../protocol/h2/server-stream.js';
import { H2Error } from '../../protocol/h2/errors.js';
import { BodyError, respondText } from './h2-io.js';
import { endpointTable, findEndpoint, type EndpointRow } from './endpoints.js';
import { handleRegister } from './register-handler.js';
import { handleMap } from './map-handler.js';
import { FullMapGate } from './full-map-gate.js';

/** Full maps written at once: about 50 MB in flight at ten thousand peers. */
const FULL_MAPS_IN_FLIGHT = 32;

export interface ControlDeps {
  state: State;
  mapper: Mapper;
  batcher: Batcher;
  reaper: EphemeralReaper;
  logger: Logger;
}

export class ControlServer {
  readonly #connections = new Set<H2ServerConnection>();
  readonly #table: EndpointRow[];
  readonly #logger: Logger;

  constructor(deps: ControlDeps) {
    this.#logger = deps.logger;
    const mapDeps = {
      ...deps,
      fullMaps: new FullMapGate(FULL_MAPS_IN_FLIGHT),
      onOnline: (node: { id: number }) => {
        deps.reaper.cancel(node.id);
        deps.state.nodes.setOnline(node.id, true);
      },
      onOffline: (node: { id: number }) => {
        deps.state.nodes.touch(node.id, { lastSeen: new Date() }, 'none');
        deps.state.nodes.setOnline(node.id, false);
        deps.reaper.schedule(node.id);
      },
    };
    this.#table = endpointTable({
      register: (stream, mk) => handleRegister(deps.state, stream, mk, deps.logger),
      map: (stream, mk) => handleMap(mapDeps, stream, mk),
    });
  }

  /** Serves HTTP/2 on an authenticated Noise stream. */
  accept(duplex: Duplex, machineKey: string): void {
    const connection: H2ServerConnection = new H2ServerConnection(duplex, {
      onStream: (stream) => this.#route(stream, machineKey),
      onError: (err) => this.#logger.debug('control connection closed on a protocol error', { machine: machineKey, code: err.code, error: err.message }),
    });
    this.#connections.add(connection);
    duplex.once('close', () => this.#connections.delete(connection));
  }

  #route(stream: H2ServerStream, machineKey: string): void {
    const method = stream.headers[':method'] ?? '';
    const path = (stream.headers[':path'] ?? '').split('?')[0] ?? '';
    const row = findEndpoint(this.#table, method, path);
    if (!row) return respondText(stream, 404, 'not found');
    if (!row.handler) return respondText(stream, 501, `not implemented: ${row.purpose}`);
    row.handler(stream, machineKey).catch((err: unknown) => {
      if (err instanceof BodyError) return respondText(stream, err.status, err.message);
      if (err instanceof H2Error && err.code === 'ERR_H2_STREAM_CLOSED') return; // the client went away
      this.#logger.error('control request failed', { path, error: err instanceof Error ? err.stack : String(err) });
      respondText(stream, 500, 'internal error');
    });
  }

  close(): void {
    for (const c of this.#connections) c.destroy();
    this.#connections.clear();
  }
}
