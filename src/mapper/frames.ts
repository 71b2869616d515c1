// The map stream's framing: each MapResponse is JSON, compressed as one standalone zstd frame
// when the client asked for Compress "zstd", preceded by its length as a 4-byte little-endian
// unsigned integer.

import { compress } from 'zstd-napi';

export function encodeFrame(json: string, zstd: boolean): Buffer {
  const body = zstd ? compress(Buffer.from(json, 'utf8')) : Buffer.from(json, 'utf8');
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32LE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

const KEEP_ALIVE_JSON = '{"KeepAlive":true}';
const KEEP_ALIVE = { zstd: encodeFrame(KEEP_ALIVE_JSON, true), plain: encodeFrame(KEEP_ALIVE_JSON, false) };

export function keepAliveFrame(zstd: boolean): Buffer {
  return zstd ? KEEP_ALIVE.zstd : KEEP_ALIVE.plain;
}
