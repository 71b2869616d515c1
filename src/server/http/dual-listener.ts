// One TCP port for plain HTTP and HTTPS: the first byte of a connection tells them apart (a TLS
// ClientHello starts with 0x16, an HTTP request with a letter). Clients reach the control
// protocol over plain HTTP at server_url and the DERP relay over TLS at the same address, so the
// zero-config server needs no second port and no flags on the clients.

import net from 'node:net';
import tls from 'node:tls';
import type http from 'node:http';
import { Duplex } from 'node:stream';

const TLS_HANDSHAKE = 0x16;

/** A Duplex that reads what the socket (including unshifted bytes) delivers and writes to it. */
function streamOver(socket: net.Socket): Duplex {
  const d = new Duplex({
    read: () => socket.resume(),
    write: (chunk, _enc, cb) => socket.write(chunk, cb),
    final: (cb) => {
      socket.end();
      cb();
    },
    destroy: (err, cb) => {
      socket.destroy();
      cb(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    if (!d.push(chunk)) socket.pause();
  });
  socket.on('end', () => d.push(null));
  socket.on('close', () => d.destroy());
  socket.on('error', (err) => d.destroy(err));
  return d;
}

export function createDualServer(httpServer: http.Server, tlsOptions: tls.TlsOptions | undefined): net.Server {
  const tlsServer = tlsOptions ? tls.createServer({ ...tlsOptions, ALPNProtocols: ['http/1.1'] }) : undefined;
  tlsServer?.on('secureConnection', (socket) => httpServer.emit('connection', socket));
  tlsServer?.on('tlsClientError', (_err, socket) => socket.destroy());
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE && tlsServer) {
        // TLS reads a net.Socket's handle directly and would miss the byte put back; hand it a
        // plain stream over the socket instead.
        tlsServer.emit('connection', streamOver(socket));
      } else {
        httpServer.emit('connection', socket);
      }
      socket.resume();
    });
  });
  server.on('close', () => tlsServer?.close());
  return server;
}
