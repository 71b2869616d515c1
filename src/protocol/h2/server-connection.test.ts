// H2ServerConnection against an independent HTTP/2 client (node:http2, i.e. nghttp2) over real
// loopback sockets: requests with bodies, many streams at once, responses far larger than the
// client's 64 KiB windows, streaming responses, client cancellation, body limits; and against raw
// frames: each protocol fault gets the right GOAWAY or RST_STREAM, and other connections go on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { H2ServerConnection } from './server-connection.js';
import type { H2ServerStream } from './server-stream.js';
import { CLIENT_PREFACE, ErrorCode, Flag, FrameReader, FrameType, encodeFrame, settingsFrame, windowUpdateFrame, type Frame } from './frames.js';
import { encodeHeaders } from './hpack.js';
import type { H2Error } from './errors.js';

interface Harness {
  port: number;
  errors: H2Error[];
  close(): Promise<void>;
}

async function serve(onStream: (s: H2ServerStream) => void): Promise<Harness> {
  const errors: H2Error[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    new H2ServerConnection(socket, { onStream, onError: (e) => errors.push(e) });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    errors,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Echo: answers with the method, path and body it got. */
function echo(stream: H2ServerStream): void {
  stream.readBody(1 << 20).then(
    (body) => {
      stream.respond(200, { 'content-type': 'text/plain' });
      stream.end(`${stream.headers[':method']} ${stream.headers[':path']} ${body.toString()}`);
    },
    () => stream.respond(413, {}, { endStream: true }),
  );
}

async function request(session: http2.ClientHttp2Session, path: string, body?: Buffer | string): Promise<{ status: number; body: Buffer }> {
  const req = session.request({ ':method': body === undefined ? 'GET' : 'POST', ':path': path });
  req.end(body);
  const [headers] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return { status: Number(headers[':status']), body: Buffer.concat(chunks) };
}

test('node:http2 client: requests with bodies, 50 at once on one connection', async () => {
  const h = await serve(echo);
  const session = http2.connect(`http://127.0.0.1:${h.port}`);
  try {
    const first = await request(session, '/machine/whoami');
    assert.deepEqual([first.status, first.body.toString()], [200, 'GET /machine/whoami ']);
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => request(session, `/p/${i}`, 'x'.repeat(i * 1000))));
    many.forEach((r, i) => assert.equal(r.body.toString(), `POST /p/${i} ${'x'.repeat(i * 1000)}`));
    assert.deepEqual(h.errors, []);
  } finally {
    session.destroy();
    await h.close();
  }
});

test('a 5 MB response crosses 64 KiB client windows intact, and a 2 MB body is read within limits', async () => {
  const big = Buffer.alloc(5_000_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  const h = await serve((s) => {
    void s.readBody(4 << 20).then((body) => {
      s.respond(200);
      s.end(s.headers[':path'] === '/big' ? big : Buffer.from(String(body.length)));
    });
  });
  const session = http2.connect(`http://127.0.0.1:${h.port}`);
  try {
    const r = await request(session, '/big');
    assert.equal(r.body.length, big.length);
    assert.ok(r.body.equals(big));
    const upload = await request(session, '/up', Buffer.alloc(2_000_000, 1));
    assert.equal(upload.body.toString(), '2000000');
  } finally {
    session.destroy();
    await h.close();
  }
});

test('a streaming response delivers each write, and a client cancel closes the server stream', async () => {
  let serverStream: H2ServerStream | undefined;
  const h = await serve((s) => {
    serverStream = s;
    void s.readBody(1024).then(() => {
      s.respond(200);
      s.write(Buffer.from('one;'));
    });
  });
  const session = http2.connect(`http://127.0.0.1:${h.port}`);
  try {
    const req = session.request({ ':method': 'POST', ':path': '/machine/map' });
    req.end('{}');
    const [chunk] = (await once(req, 'data')) as [Buffer];
    assert.equal(chunk.toString(), 'one;');
    serverStream!.write(Buffer.from('two;'));
    const [chunk2] = (await once(req, 'data')) as [Buffer];
    assert.equal(chunk2.toString(), 'two;');
    const closed = once(serverStream!, 'close');
    req.close(http2.constants.NGHTTP2_CANCEL);
    await closed;
    assert.equal(serverStream!.closed, true);
    assert.equal(serverStream!.write(Buffer.from('late')), true); // ignored, no throw
  } finally {
    session.destroy();
    await h.close();
  }
});

test('a body above the reader limit is refused and the connection keeps serving', async () => {
  const h = await serve((s) => {
    s.readBody(1000).then(
      () => s.end('ok'),
      (err: H2Error) => {
        s.respond(413, { 'content-type': 'text/plain' });
        s.end(err.code);
      },
    );
  });
  const session = http2.connect(`http://127.0.0.1:${h.port}`);
  try {
    const refused = await request(session, '/x', Buffer.alloc(5000));
    assert.deepEqual([refused.status, refused.body.toString()], [413, 'ERR_H2_BODY_TOO_LARGE']);
    const fine = await request(session, '/x', 'small');
    assert.deepEqual([fine.status, fine.body.toString()], [200, 'ok']);
  } finally {
    session.destroy();
    await h.close();
  }
});

test('a request body that nobody reads is capped: the stream is reset, the connection keeps serving', async () => {
  let unread: H2ServerStream | undefined;
  const h = await serve((s) => {
    if (s.headers[':path'] === '/ignored') unread = s; // never reads its body, never answers
    else echo(s);
  });
  const session = http2.connect(`http://127.0.0.1:${h.port}`);
  try {
    const req = session.request({ ':method': 'POST', ':path': '/ignored' });
    const reset = once(req, 'close');
    for (let i = 0; i < 6; i++) req.write(Buffer.alloc(1 << 20));
    await reset;
    assert.equal(req.rstCode, ErrorCode.CANCEL);
    assert.equal(unread?.closed, true);
    const fine = await request(session, '/after', 'still here');
    assert.equal(fine.body.toString(), 'POST /after still here');
  } finally {
    session.destroy();
    await h.close();
  }
});

/** A raw client: sends bytes, collects the frames the server sends until it closes (or 2 s). */
async function rawExchange(port: number, bytes: Buffer[]): Promise<{ frames: Frame[]; ended: boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const frames: Frame[] = [];
  const reader = new FrameReader(false);
  reader.maxFrameSize = 1 << 24;
  socket.on('data', (c: Buffer) => reader.push(c, (f) => frames.push(f)));
  for (const b of bytes) socket.write(b);
  const ended = await Promise.race([once(socket, 'close').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2000))]);
  socket.destroy();
  return { frames, ended };
}

const goAwayCode = (frames: Frame[]): number | undefined => frames.find((f) => f.type === FrameType.GOAWAY)?.payload.readUInt32BE(4);
const opening = [CLIENT_PREFACE, settingsFrame([])];
const get = (id: number, flags = Flag.END_HEADERS | Flag.END_STREAM): Buffer =>
  encodeFrame(FrameType.HEADERS, flags, id, encodeHeaders([[':method', 'GET'], [':scheme', 'https'], [':path', '/'], [':authority', 'x']]));

test('raw frames: each connection fault gets GOAWAY with its code and a close', async () => {
  const h = await serve(echo);
  try {
    const cases: Array<[string, Buffer[], number]> = [
      ['wrong preface', [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')], ErrorCode.PROTOCOL_ERROR],
      ['first frame not SETTINGS', [CLIENT_PREFACE, get(1)], ErrorCode.PROTOCOL_ERROR],
      ['frame above 16 KiB', [...opening, encodeFrame(FrameType.DATA, 0, 1, Buffer.alloc(20_000))], ErrorCode.FRAME_SIZE_ERROR],
      ['HEADERS on an even stream', [...opening, get(2)], ErrorCode.PROTOCOL_ERROR],
      ['bad HPACK', [...opening, encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, 1, Buffer.from([0x80]))], ErrorCode.COMPRESSION_ERROR],
      ['DATA on an idle stream', [...opening, encodeFrame(FrameType.DATA, 0, 7, Buffer.from('x'))], ErrorCode.PROTOCOL_ERROR],
      ['PING of 3 bytes', [...opening, encodeFrame(FrameType.PING, 0, 0, Buffer.alloc(3))], ErrorCode.FRAME_SIZE_ERROR],
      ['WINDOW_UPDATE of 0 on the connection', [...opening, windowUpdateFrame(0, 0)], ErrorCode.PROTOCOL_ERROR],
      ['connection window past 2^31-1', [...opening, windowUpdateFrame(0, 0x7fffffff)], ErrorCode.FLOW_CONTROL_ERROR],
      ['interrupted header block', [...opening, get(1, 0), get(3)], ErrorCode.PROTOCOL_ERROR],
      ['PUSH_PROMISE from a client', [...opening, encodeFrame(FrameType.PUSH_PROMISE, 0, 1, Buffer.alloc(4))], ErrorCode.PROTOCOL_ERROR],
      ['SETTINGS_MAX_FRAME_SIZE too small', [CLIENT_PREFACE, settingsFrame([[5, 100]])], ErrorCode.PROTOCOL_ERROR],
    ];
    for (const [name, bytes, code] of cases) {
      const r = await rawExchange(h.port, bytes);
      assert.equal(goAwayCode(r.frames), code, name);
      assert.equal(r.ended, true, `${name}: connection closed`);
    }
    assert.equal(h.errors.length, cases.length);
    const after = http2.connect(`http://127.0.0.1:${h.port}`);
    assert.equal((await request(after, '/still')).body.toString(), 'GET /still ');
    after.destroy();
  } finally {
    await h.close();
  }
});

test('raw frames: stream faults reset that stream only; PING and SETTINGS are acknowledged', async () => {
  const h = await serve(echo);
  try {
    const ping = Buffer.from('12345678');
    const badRequest = encodeFrame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 3, encodeHeaders([[':method', 'GET'], ['Upper', 'x']]));
    const r = await rawExchange(h.port, [
      ...opening,
      encodeFrame(FrameType.PING, 0, 0, ping),
      badRequest,
      encodeFrame(FrameType.PRIORITY, 0, 5, Buffer.alloc(3)),
      get(7),
    ]);
    assert.equal(r.ended, false, 'the connection stays open');
    assert.ok(r.frames.some((f) => f.type === FrameType.SETTINGS && f.flags === Flag.ACK));
    assert.ok(r.frames.some((f) => f.type === FrameType.PING && f.flags === Flag.ACK && f.payload.equals(ping)));
    const resets = r.frames.filter((f) => f.type === FrameType.RST_STREAM).map((f) => [f.streamId, f.payload.readUInt32BE(0)]);
    assert.deepEqual(resets, [[3, ErrorCode.PROTOCOL_ERROR], [5, ErrorCode.FRAME_SIZE_ERROR]]);
    const answered = r.frames.filter((f) => f.type === FrameType.HEADERS).map((f) => f.streamId);
    assert.deepEqual(answered, [7]);
  } finally {
    await h.close();
  }
});

test('raw frames: more streams than announced are refused, and rapid resets end the connection', async () => {
  const h = await serve(() => {}); // never answers: streams stay open
  try {
    const opens = Array.from({ length: 101 }, (_, i) => get(2 * i + 1));
    const r = await rawExchange(h.port, [...opening, ...opens]);
    const refused = r.frames.filter((f) => f.type === FrameType.RST_STREAM).map((f) => [f.streamId, f.payload.readUInt32BE(0)]);
    assert.deepEqual(refused, [[201, ErrorCode.REFUSED_STREAM]]);

    const churn: Buffer[] = [];
    for (let i = 0; i < 250; i++) {
      const id = 2 * i + 1;
      churn.push(get(id), encodeFrame(FrameType.RST_STREAM, 0, id, Buffer.from([0, 0, 0, 8])));
    }
    const flood = await rawExchange(h.port, [...opening, ...churn]);
    assert.equal(goAwayCode(flood.frames), ErrorCode.ENHANCE_YOUR_CALM);
    assert.equal(flood.ended, true);
  } finally {
    await h.close();
  }
});
