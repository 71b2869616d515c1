// Small helpers for HTTP/2 streams inside the Noise connection: read a JSON body with a size
// limit, answer with a status and a fixed text.

import type { H2ServerStream } from '../../protocol/h2/server-stream.js';
import { H2Error } from '../../protocol/h2/errors.js';

export const MAX_BODY_BYTES = 1 << 20;

export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function readJsonBody<T>(stream: H2ServerStream): Promise<T> {
  let body: Buffer;
  try {
    body = await stream.readBody(MAX_BODY_BYTES);
  } catch (err) {
    if (err instanceof H2Error && err.code === 'ERR_H2_BODY_TOO_LARGE') throw new BodyError(413, 'request body too large');
    throw err;
  }
  try {
    return JSON.parse(body.toString('utf8') || '{}') as T;
  } catch {
    throw new BodyError(400, 'request body is not valid JSON');
  }
}

export function respondText(stream: H2ServerStream, status: number, text: string): void {
  if (stream.closed) return;
  if (!stream.headersSent) stream.respond(status, { 'content-type': 'text/plain; charset=utf-8' });
  stream.end(text);
}

export function respondJson(stream: H2ServerStream, status: number, value: unknown): void {
  if (stream.closed) return;
  stream.respond(status, { 'content-type': 'application/json' });
  stream.end(JSON.stringify(value));
}
