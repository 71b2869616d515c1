// The control server inside Noise: one HTTP/2 server (prior knowledge, no TLS) that every
// authenticated Noise connection is handed to, with the machine key the handshake proved
// attached to its session. Requests are routed by path through the endpoint table.

import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { State } from '../../state/index.js';
import type { Mapper } from '../../mapper/mapper.js';
import type { Batcher } from '../../mapper/batcher.js';
import type { Logger } from '../../lib/logger.js';
import type { EphemeralReaper } from '../../state/ephemeral-reaper.js';
import { BodyError, respondText } from './h2-io.js';
import { endpointTable, findEndpoint, type EndpointRow } from './endpoints.js';
import { handleRegister } from './register-handler.js';
import { FullMapGate } from './full-map-gate.js';

/** Full maps written at once: about 50 MB in flight at ten thousand peers. */
const FULL_MAPS_IN_FLIGHT = 32;
import { handleMap } from './map-handler.js';

export interface ControlDeps {
  state: State;
  mapper: Mapper;
  batcher: Batcher;
  reaper: EphemeralReaper;
  logger: Logger;
}

export class ControlServer {
  readonly #h2: http2.Http2Server;
  readonly #machineKeys = new WeakMap<http2.ServerHttp2Session, string>();
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  readonly #table: EndpointRow[];
  readonly #logger: Logger;
  #nextMachineKey: string | undefined;

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
    this.#h2 = http2.createServer({ settings: { maxConcurrentStreams: 100 } });
    this.#h2.on('session', (session) => {
      if (this.#nextMachineKey) this.#machineKeys.set(session, this.#nextMachineKey);
      this.#sessions.add(session);
      session.on('close', () => this.#sessions.delete(session));
      session.on('error', () => {});
    });
    this.#h2.on('stream', (stream, headers) => this.#route(stream, headers));
  }

  /** Serves HTTP/2 on an authenticated Noise stream. */
  accept(duplex: Duplex, machineKey: string): void {
    this.#nextMachineKey = machineKey;
    try {
      this.#h2.emit('connection', duplex);
    } finally {
      this.#nextMachineKey = undefined;
    }
  }

  #route(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', () => {});
    const machineKey = this.#machineKeys.get(stream.session as http2.ServerHttp2Session);
    const method = String(headers[':method'] ?? '');
    const path = String(headers[':path'] ?? '').split('?')[0] ?? '';
    if (!machineKey) return respondText(stream, 500, 'internal error');
    const row = findEndpoint(this.#table, method, path);
    if (!row) return respondText(stream, 404, 'not found');
    if (!row.handler) return respondText(stream, 501, `not implemented: ${row.purpose}`);
    row.handler(stream, machineKey, headers).catch((err: unknown) => {
      if (err instanceof BodyError) return respondText(stream, err.status, err.message);
      this.#logger.error('control request failed', { path, error: err instanceof Error ? err.stack : String(err) });
      respondText(stream, 500, 'internal error');
    });
  }

  close(): void {
    for (const s of this.#sessions) s.destroy();
    this.#sessions.clear();
  }
}
