// Test support for this folder (not used by production code): a completed handshake, a pair of
// NoiseStreams over an in-memory duplexPair, and a guard that records uncaught errors.

import { duplexPair, type Duplex } from 'node:stream';
import { generatePrivateKey, publicKeyOf } from '../../crypto/keys.js';
import { acceptHandshake, initiateHandshake, type ClientHandshakeResult, type ServerHandshakeResult } from './handshake.js';
import { NoiseStream } from './transport.js';

export function handshakePair(protocolVersion = 145): { server: ServerHandshakeResult; client: ClientHandshakeResult } {
  const serverKey = generatePrivateKey();
  const { initiation, handshake } = initiateHandshake({
    machinePrivateKey: generatePrivateKey(),
    serverPublicKey: publicKeyOf(serverKey),
    protocolVersion,
  });
  const server = acceptHandshake(initiation, serverKey);
  return { server, client: handshake.finish(server.response) };
}

/** Two connected NoiseStreams plus the raw ends beneath them. */
export function noisePair(): { server: NoiseStream; client: NoiseStream; serverRaw: Duplex; clientRaw: Duplex } {
  const { server, client } = handshakePair();
  const [serverRaw, clientRaw] = duplexPair();
  return {
    server: new NoiseStream(serverRaw, { tx: server.tx, rx: server.rx, peerPublicKey: server.machineKey }),
    client: new NoiseStream(clientRaw, { tx: client.tx, rx: client.rx, peerPublicKey: client.serverKey }),
    serverRaw,
    clientRaw,
  };
}

/** Records uncaught exceptions and unhandled rejections until stop() is called. */
export function watchUncaught(): { errors: unknown[]; stop: () => void } {
  const errors: unknown[] = [];
  const onError = (err: unknown): void => {
    errors.push(err);
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    errors,
    stop: () => {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}

/** Resolves with the stream's 'error' (or undefined when it closes without one). */
export function closeReason(stream: Duplex): Promise<Error | undefined> {
  return new Promise((resolve) => {
    let error: Error | undefined;
    stream.on('error', (err) => {
      error = err;
    });
    stream.on('close', () => resolve(error));
  });
}

/** Reads a stream to its end without destroying it (for-await would, killing the write side). */
export function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (chunk: Buffer | string) => parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)));
    stream.on('end', () => resolve(Buffer.concat(parts)));
    stream.on('error', reject);
  });
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
