// H2Error: the coded failure type of our HTTP/2 layer. `h2Code` is the RFC 9113 error code the
// peer is told (in GOAWAY or RST_STREAM); `streamId` is set for a stream error, which ends that
// stream only, and absent for a connection error, which ends the connection. Messages name the
// fault and small numbers (lengths, ids), never the peer's bytes.

export type H2ErrorCode =
  | 'ERR_H2_PREFACE' // the connection did not open with the client preface
  | 'ERR_H2_FRAME_SIZE' // a frame larger than allowed, or of a wrong fixed size
  | 'ERR_H2_PROTOCOL' // a frame not allowed here (wrong stream, wrong state, bad setting)
  | 'ERR_H2_FLOW_CONTROL' // a peer overran a window, or grew one past 2^31-1
  | 'ERR_H2_COMPRESSION' // a header block HPACK cannot decode
  | 'ERR_H2_HEADERS' // a request's header list is malformed or too large
  | 'ERR_H2_CALM' // the peer sends more than a well-behaved client would (resets, pings)
  | 'ERR_H2_BODY_TOO_LARGE' // a request body above the reader's limit
  | 'ERR_H2_STREAM_CLOSED'; // the stream was closed before the operation could finish

export class H2Error extends Error {
  override readonly name = 'H2Error';

  constructor(
    readonly code: H2ErrorCode,
    message: string,
    /** The RFC 9113 error code to send. */
    readonly h2Code: number,
    /** Set for a stream error. */
    readonly streamId?: number,
  ) {
    super(message);
  }
}
