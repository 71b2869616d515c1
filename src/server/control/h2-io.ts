// Small helpers for HTTP/2 streams inside the Noise connection: read a JSON body with a size
// limit, answer with a status and a fixed text.

import type http2 from 'node:http2';

export const MAX_BODY_BYTES = 1 << 20;

export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function readJsonBody<T>(stream: http2.ServerHttp2Stream): Promise<T> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyError(413, 'request body too large'));
        stream.close(0x8); // CANCEL
        return;
      }
      chunks.push(chunk);
    });
    stream.once('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as T);
      } catch {
        reject(new BodyError(400, 'request body is not valid JSON'));
      }
    });
    stream.once('error', reject);
  });
}

export function respondText(stream: http2.ServerHttp2Stream, status: number, text: string): void {
  if (stream.destroyed || stream.closed) return;
  if (!stream.headersSent) stream.respond({ ':status': status, 'content-type': 'text/plain; charset=utf-8' });
  stream.end(text);
}

export function respondJson(stream: http2.ServerHttp2Stream, status: number, value: unknown): void {
  if (stream.destroyed || stream.closed) return;
  stream.respond({ ':status': status, 'content-type': 'application/json' });
  stream.end(JSON.stringify(value));
}
