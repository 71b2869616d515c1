// NoiseError: the coded failure type of the ts2021 Noise layer (handshake, records, early
// payload, HTTP upgrade, WebSocket adapter). Kept local to this folder because the project-wide
// catalogue (src/lib/errors.ts) describes admin-facing errors; these are per-connection faults.
//
// Rule (from controlbase's sendErr): text that may reach the peer before authentication is one
// of the fixed strings in PEER_MESSAGES, never built from the peer's input. `message` is for our
// logs only and also never embeds peer bytes beyond small numbers (lengths, type bytes).

export type NoiseErrorCode =
  | 'ERR_NOISE_BAD_KEY' // a local key argument has the wrong size
  | 'ERR_NOISE_BAD_INITIATION' // handshake message 1 malformed or failed to authenticate
  | 'ERR_NOISE_BAD_RESPONSE' // handshake message 2 malformed or failed to authenticate
  | 'ERR_NOISE_SERVER_ERROR' // the server answered the handshake with an error frame
  | 'ERR_NOISE_HANDSHAKE_USED' // a one-shot handshake state was used twice
  | 'ERR_NOISE_BAD_RECORD_TYPE' // a transport frame whose type byte is not 4
  | 'ERR_NOISE_RECORD_TOO_LARGE' // a transport frame longer than 4096 bytes on the wire
  | 'ERR_NOISE_DECRYPT' // a transport record failed authentication (or is shorter than a tag)
  | 'ERR_NOISE_NONCE_EXHAUSTED' // 2^64-1 records in one direction
  | 'ERR_NOISE_TRUNCATED' // the underlying stream ended inside a frame
  | 'ERR_NOISE_BAD_EARLY_PAYLOAD' // early payload header/length/JSON invalid
  | 'ERR_NOISE_BAD_UPGRADE' // the HTTP upgrade request or response is not acceptable
  | 'ERR_NOISE_WEBSOCKET' // RFC 6455 protocol violation on the WebSocket carrier
  | 'ERR_NOISE_CLOSED'; // the stream was closed before the operation could finish

export class NoiseError extends Error {
  readonly code: NoiseErrorCode;
  override readonly name = 'NoiseError';
  /** A fixed string that may be sent to the unauthenticated peer, or undefined for "say nothing". */
  readonly peerMessage: string | undefined;

  constructor(code: NoiseErrorCode, message: string, options?: { cause?: unknown; peerMessage?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.peerMessage = options?.peerMessage;
  }
}

export function isNoiseError(err: unknown, code?: NoiseErrorCode): err is NoiseError {
  return err instanceof NoiseError && (code === undefined || err.code === code);
}

/**
 * The only strings the server ever sends in a handshake error frame (type 3), exactly as
 * controlbase.Server words them (control/controlbase/handshake.go).
 */
export const PEER_MESSAGES = {
  wrongSize: 'wrong handshake initiation size',
  wrongType: 'unexpected handshake message type',
  wrongLength: 'wrong handshake initiation length',
} as const;
