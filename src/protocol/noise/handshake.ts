// Noise_IK_25519_ChaChaPoly_BLAKE2s exactly as Tailscale's controlbase runs it
// (control/controlbase/handshake.go, v1.102.3), for both roles:
//   server (responder): acceptHandshake(initiation, serverKey) → response + transport ciphers
//   client (initiator): initiateHandshake(...) → initiation; finishHandshake(hs, response)
// Prologue "Tailscale Control Protocol v<N>", N = the version in the initiation header.
// Split gives (c1, c2): the client sends with c1 and receives with c2; the server the reverse.
// Byte layouts are in messages.ts; every bad byte ends in a NoiseError, never a crash.

import { CipherState } from './cipher-state.js';
import { NoiseError, type NoiseErrorCode } from './errors.js';
import {
  PROTOCOL_NAME,
  encodeInitiation,
  encodeResponse,
  parseInitiation,
  parseResponse,
  prologue,
} from './messages.js';
import { DH_LEN, X25519Key } from './primitives.js';
import { SymmetricState } from './symmetric-state.js';

export interface TransportKeys {
  /** Cipher for what this side sends. */
  tx: CipherState;
  /** Cipher for what this side receives. */
  rx: CipherState;
  /** The protocol version both sides mixed into the prologue. */
  protocolVersion: number;
  /** Final handshake hash h (channel binding). */
  handshakeHash: Buffer;
}

export interface ServerHandshakeResult extends TransportKeys {
  /** The 51-byte response frame to send to the client. */
  response: Buffer;
  /** The client's static public key (its machine key), authenticated by the handshake. */
  machineKey: Buffer;
}

export interface ClientHandshakeResult extends TransportKeys {
  /** The server's static public key the handshake was run against. */
  serverKey: Buffer;
}

/** A key given either raw (32 bytes) or already imported (faster when reused). */
export type PrivateKeyInput = Uint8Array | X25519Key;

function toKey(k: PrivateKeyInput, what: string): X25519Key {
  if (k instanceof X25519Key) return k;
  if (k.length !== DH_LEN) throw new NoiseError('ERR_NOISE_BAD_KEY', `${what} must be 32 bytes`);
  return X25519Key.fromPrivate(k);
}

function checkVersion(v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError('protocol version must be a u16');
}

/** Runs one DH/decrypt step, turning any low-level failure into a coded NoiseError. */
function step<T>(code: NoiseErrorCode, what: string, fn: () => T | undefined): T {
  let out: T | undefined;
  try {
    out = fn();
  } catch (err) {
    throw new NoiseError(code, `${what} failed`, { cause: err });
  }
  if (out === undefined) throw new NoiseError(code, `${what} failed`);
  return out;
}

/**
 * Server side: validates and processes message 1, builds message 2.
 * `options.ephemeral` pins the server ephemeral key (known-answer tests only).
 */
export function acceptHandshake(
  initiation: Uint8Array,
  serverPrivateKey: PrivateKeyInput,
  options: { ephemeral?: X25519Key } = {},
): ServerHandshakeResult {
  const serverKey = toKey(serverPrivateKey, 'server private key');
  const init = parseInitiation(initiation); // size, type, length (fixed peer messages)
  const bad: NoiseErrorCode = 'ERR_NOISE_BAD_INITIATION';
  const s = new SymmetricState(PROTOCOL_NAME);

  s.mixHash(prologue(init.protocolVersion));
  // <- s
  s.mixHash(serverKey.publicKey);

  // -> e, es, s, ss
  s.mixHash(init.ephemeralPublic); // e
  step(bad, 'computing es', () => (s.mixDh(serverKey, init.ephemeralPublic), true)); // es
  const machineKey = step(bad, 'decrypting machine key', () => s.decryptAndHash(init.encryptedStatic)); // s
  step(bad, 'computing ss', () => (s.mixDh(serverKey, machineKey), true)); // ss
  step(bad, 'decrypting initiation tag', () => s.decryptAndHash(init.tag)); // empty payload

  // <- e, ee, se
  const ephemeral = options.ephemeral ?? X25519Key.generate();
  s.mixHash(ephemeral.publicKey); // e
  step(bad, 'computing ee', () => (s.mixDh(ephemeral, init.ephemeralPublic), true)); // ee
  step(bad, 'computing se', () => (s.mixDh(ephemeral, machineKey), true)); // se
  const tag = s.encryptAndHash(Buffer.alloc(0)); // empty payload

  const handshakeHash = s.handshakeHash;
  const [k1, k2] = s.split();
  return {
    response: encodeResponse(ephemeral.publicKey, tag),
    machineKey,
    protocolVersion: init.protocolVersion,
    handshakeHash,
    tx: new CipherState(k2),
    rx: new CipherState(k1),
  };
}

export interface InitiateOptions {
  /** The client's static key (its machine key). */
  machinePrivateKey: PrivateKeyInput;
  /** The server's static public key (from GET /key). */
  serverPublicKey: Uint8Array;
  /** Protocol version for the header and prologue (tailscaled sends its capability version). */
  protocolVersion: number;
  /** Pins the client ephemeral key (known-answer tests only). */
  ephemeral?: X25519Key;
}

/** Client state between sending message 1 and receiving message 2. One use only. */
export class ClientHandshake {
  readonly #s: SymmetricState;
  readonly #machineKey: X25519Key;
  readonly #ephemeral: X25519Key;
  readonly #serverPublic: Buffer;
  readonly #protocolVersion: number;
  #used = false;

  constructor(s: SymmetricState, machineKey: X25519Key, ephemeral: X25519Key, serverPublic: Buffer, protocolVersion: number) {
    this.#s = s;
    this.#machineKey = machineKey;
    this.#ephemeral = ephemeral;
    this.#serverPublic = serverPublic;
    this.#protocolVersion = protocolVersion;
  }

  get protocolVersion(): number {
    return this.#protocolVersion;
  }

  /** Processes the server's answer (51-byte response, or an error frame which throws). */
  finish(response: Uint8Array): ClientHandshakeResult {
    if (this.#used) throw new NoiseError('ERR_NOISE_HANDSHAKE_USED', 'client handshake already finished');
    this.#used = true;
    const resp = parseResponse(response);
    const s = this.#s;
    const bad: NoiseErrorCode = 'ERR_NOISE_BAD_RESPONSE';

    // <- e, ee, se
    s.mixHash(resp.ephemeralPublic); // e
    step(bad, 'computing ee', () => (s.mixDh(this.#ephemeral, resp.ephemeralPublic), true)); // ee
    step(bad, 'computing se', () => (s.mixDh(this.#machineKey, resp.ephemeralPublic), true)); // se
    step(bad, 'decrypting response tag', () => s.decryptAndHash(resp.tag)); // empty payload

    const handshakeHash = s.handshakeHash;
    const [k1, k2] = s.split();
    return {
      serverKey: Buffer.from(this.#serverPublic),
      protocolVersion: this.#protocolVersion,
      handshakeHash,
      tx: new CipherState(k1),
      rx: new CipherState(k2),
    };
  }
}

/** Client side, step 1: builds the 101-byte initiation. */
export function initiateHandshake(opts: InitiateOptions): { initiation: Buffer; handshake: ClientHandshake } {
  checkVersion(opts.protocolVersion);
  const machineKey = toKey(opts.machinePrivateKey, 'machine private key');
  if (opts.serverPublicKey.length !== DH_LEN) throw new NoiseError('ERR_NOISE_BAD_KEY', 'server public key must be 32 bytes');
  const serverPublic = Buffer.from(opts.serverPublicKey);
  const s = new SymmetricState(PROTOCOL_NAME);

  s.mixHash(prologue(opts.protocolVersion));
  // <- s
  s.mixHash(serverPublic);

  // -> e, es, s, ss
  const ephemeral = opts.ephemeral ?? X25519Key.generate();
  s.mixHash(ephemeral.publicKey); // e
  step('ERR_NOISE_BAD_KEY', 'computing es', () => (s.mixDh(ephemeral, serverPublic), true)); // es
  const encryptedStatic = s.encryptAndHash(machineKey.publicKey); // s
  step('ERR_NOISE_BAD_KEY', 'computing ss', () => (s.mixDh(machineKey, serverPublic), true)); // ss
  const tag = s.encryptAndHash(Buffer.alloc(0)); // empty payload

  const initiation = encodeInitiation({
    protocolVersion: opts.protocolVersion,
    ephemeralPublic: ephemeral.publicKey,
    encryptedStatic,
    tag,
  });
  return { initiation, handshake: new ClientHandshake(s, machineKey, ephemeral, serverPublic, opts.protocolVersion) };
}

/** Client side, step 2 (same as handshake.finish(response)). */
export function finishHandshake(handshake: ClientHandshake, response: Uint8Array): ClientHandshakeResult {
  return handshake.finish(response);
}
