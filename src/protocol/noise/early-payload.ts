// The ts2021 "early payload": the server's first plaintext inside Noise, before any HTTP/2 byte
// (control/ts2021/conn.go, tailcfg.EarlyNoise, types/key/chal.go; Tailscale v1.102.3).
//
// Plaintext layout:
//   [0..5)   magic "\xff\xff\xffTS" (FF FF FF 54 53) — can never start an HTTP/2 frame header
//   [5..9)   JSON length, BE u32 (the client refuses more than 10 MiB)
//   [9..)    JSON of tailcfg.EarlyNoise: {"nodeKeyChallenge":"chalpub:<64 hex>"}
// The client peeks 9 bytes (= an HTTP/2 frame header); without the magic they are HTTP/2, so
// the payload is optional. The challenge is a fresh per-connection Curve25519 key pair; the
// private half is kept by the server to check key proofs.

import type { Readable } from 'node:stream';
import { generateKeyPair } from '../../crypto/keys.js';
import { NoiseError } from './errors.js';

export const EARLY_PAYLOAD_MAGIC = Buffer.from('ffffff5453', 'hex');
export const EARLY_PAYLOAD_HEADER_LEN = 9;
export const MAX_EARLY_PAYLOAD_JSON = 10 << 20;
export const CHALLENGE_PREFIX = 'chalpub:';

export interface EarlyNoise {
  /** The 32-byte challenge public key (all zeros when the JSON omits it, as Go decodes). */
  nodeKeyChallenge: Buffer;
}

/** The full early payload for a challenge public key. */
export function encodeEarlyPayload(challengePublicKey: Buffer): Buffer {
  if (challengePublicKey.length !== 32) throw new NoiseError('ERR_NOISE_BAD_KEY', 'challenge public key must be 32 bytes');
  const json = Buffer.from(JSON.stringify({ nodeKeyChallenge: CHALLENGE_PREFIX + challengePublicKey.toString('hex') }), 'utf8');
  const header = Buffer.alloc(EARLY_PAYLOAD_HEADER_LEN);
  EARLY_PAYLOAD_MAGIC.copy(header, 0);
  header.writeUInt32BE(json.length, 5);
  return Buffer.concat([header, json]);
}

/** A fresh challenge key pair and the early payload announcing it. */
export function createEarlyPayload(): { payload: Buffer; challengePrivateKey: Buffer; challengePublicKey: Buffer } {
  const { privateKey: challengePrivateKey, publicKey: challengePublicKey } = generateKeyPair();
  return { payload: encodeEarlyPayload(challengePublicKey), challengePrivateKey, challengePublicKey };
}

export type EarlyPayloadDecode =
  | { status: 'incomplete' }
  /** `payload` undefined: the first 9 bytes are not the magic, nothing is consumed. */
  | { status: 'done'; payload: EarlyNoise | undefined; consumed: number };

/** Decides from the first plaintext bytes; throws ERR_NOISE_BAD_EARLY_PAYLOAD on a bad length or JSON. */
export function decodeEarlyPayload(buf: Buffer): EarlyPayloadDecode {
  if (buf.length < EARLY_PAYLOAD_HEADER_LEN) {
    // Decide early when the bytes seen so far already differ from the magic.
    const n = Math.min(buf.length, EARLY_PAYLOAD_MAGIC.length);
    if (!buf.subarray(0, n).equals(EARLY_PAYLOAD_MAGIC.subarray(0, n))) return { status: 'done', payload: undefined, consumed: 0 };
    return { status: 'incomplete' };
  }
  if (!buf.subarray(0, 5).equals(EARLY_PAYLOAD_MAGIC)) return { status: 'done', payload: undefined, consumed: 0 };
  const length = buf.readUInt32BE(5);
  if (length > MAX_EARLY_PAYLOAD_JSON) throw new NoiseError('ERR_NOISE_BAD_EARLY_PAYLOAD', 'invalid early payload length');
  if (buf.length < EARLY_PAYLOAD_HEADER_LEN + length) return { status: 'incomplete' };
  const json = buf.subarray(EARLY_PAYLOAD_HEADER_LEN, EARLY_PAYLOAD_HEADER_LEN + length);
  return { status: 'done', payload: parseEarlyNoiseJson(json), consumed: EARLY_PAYLOAD_HEADER_LEN + length };
}

/** Parses tailcfg.EarlyNoise JSON (key match is case-insensitive, as Go's encoding/json). */
export function parseEarlyNoiseJson(json: Buffer): EarlyNoise {
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
  } catch (err) {
    throw new NoiseError('ERR_NOISE_BAD_EARLY_PAYLOAD', 'early payload is not JSON', { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new NoiseError('ERR_NOISE_BAD_EARLY_PAYLOAD', 'early payload is not a JSON object');
  }
  let nodeKeyChallenge = Buffer.alloc(32);
  for (const [k, v] of Object.entries(value)) {
    if (k.toLowerCase() !== 'nodekeychallenge') continue;
    const m = typeof v === 'string' ? /^chalpub:([0-9a-f]{64})$/.exec(v) : null;
    if (!m) throw new NoiseError('ERR_NOISE_BAD_EARLY_PAYLOAD', 'early payload nodeKeyChallenge is not a chalpub key');
    nodeKeyChallenge = Buffer.from(m[1]!, 'hex');
  }
  return { nodeKeyChallenge };
}

/**
 * Client side: reads the optional early payload off the start of a decrypted stream, then puts
 * back (unshift) every byte that follows it, so the stream can be handed to HTTP/2.
 * Resolves undefined when the server started HTTP/2 directly.
 */
export function readEarlyPayload(stream: Readable): Promise<EarlyNoise | undefined> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const cleanup = (): void => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onEnd);
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onEnd = (): void => {
      cleanup();
      reject(new NoiseError('ERR_NOISE_CLOSED', 'stream ended before the early payload was complete'));
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = stream.read() as Buffer | null) !== null) {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
        let result: EarlyPayloadDecode;
        try {
          result = decodeEarlyPayload(buf);
        } catch (err) {
          cleanup();
          reject(err);
          return;
        }
        if (result.status === 'incomplete') continue;
        cleanup();
        const rest = buf.subarray(result.consumed);
        if (rest.length > 0) stream.unshift(rest);
        resolve(result.payload);
        return;
      }
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onError);
  });
}
