// DERP's coded errors: every failure the DERP reader, client and server report on purpose is a
// DerpError with one of these codes (src/lib/errors.ts is the app-wide catalogue; DERP keeps
// its own until the lead merges them).

export type DerpErrorCode =
  | 'ERR_DERP_BAD_FRAME' // a frame with an impossible length or layout for its type
  | 'ERR_DERP_FRAME_TOO_LARGE' // a frame header announcing more than the reader allows
  | 'ERR_DERP_TRUNCATED' // the stream ended inside a frame
  | 'ERR_DERP_HANDSHAKE' // wrong greeting, ClientInfo or ServerInfo
  | 'ERR_DERP_BOX' // a NaCl box that does not open, or a bad key
  | 'ERR_DERP_REJECTED' // the server refused the client (verifyClient said no)
  | 'ERR_DERP_TIMEOUT' // handshake, write or ping deadline passed
  | 'ERR_DERP_CLOSED' // the connection or server is closed
  | 'ERR_DERP_PERMISSION' // a mesh-only frame from a client without the mesh key
  | 'ERR_DERP_HTTP' // the HTTP upgrade failed
  | 'ERR_DERP_TLS'; // the DERP TLS certificate cannot be read, made or stored

export class DerpError extends Error {
  readonly code: DerpErrorCode;
  override readonly name = 'DerpError';

  constructor(code: DerpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isDerpError(err: unknown, code?: DerpErrorCode): err is DerpError {
  return err instanceof DerpError && (code === undefined || err.code === code);
}
