// NoiseStream tests: any chunking, head bytes, record sizes, faults (each destroys only its own
// stream with a code, nothing uncaught), bounded memory, backpressure, half-close, HTTP/2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http2 from 'node:http2';
import { duplexPair, type Duplex } from 'node:stream';
import { CipherState } from './cipher-state.js';
import { isNoiseError } from './errors.js';
import { MAX_MESSAGE_SIZE, MAX_PLAINTEXT_SIZE } from './messages.js';
import { closeReason, delay, handshakePair, noisePair, readAll, watchUncaught } from './test-kit.js';
import { NoiseStream, sealRecords } from './transport.js';

/** Seals `plaintext` as records of random sizes (0..MAX) with `tx`. */
function randomRecords(tx: CipherState, plaintext: Buffer): Buffer {
  const parts: Buffer[] = [];
  let off = 0;
  while (off < plaintext.length) {
    const n = Math.min(plaintext.length - off, crypto.randomInt(0, MAX_PLAINTEXT_SIZE + 1));
    parts.push(sealRecords(tx, plaintext.subarray(off, off + n)));
    off += n;
  }
  return Buffer.concat(parts);
}

async function feed(raw: Duplex, wire: Buffer, chunkSize: () => number): Promise<void> {
  let off = 0;
  while (off < wire.length) {
    const n = Math.max(1, Math.min(chunkSize(), wire.length - off));
    if (!raw.write(wire.subarray(off, off + n))) await new Promise((r) => raw.once('drain', r));
    off += n;
  }
  raw.end();
}

test('any chunking of a long multi-record stream (1-byte, random, all-in-one, with head) gives the same plaintext', async () => {
  const plaintext = crypto.randomBytes(300_000);
  const chunkings: Array<[string, () => number, number]> = [
    ['1-byte', () => 1, 20_000],
    ['random 1..9000', () => crypto.randomInt(1, 9000), plaintext.length],
    ['all at once', () => Number.MAX_SAFE_INTEGER, plaintext.length],
    ['header-straddling 2..5', () => crypto.randomInt(2, 6), 40_000],
  ];
  for (const [name, chunk, size] of chunkings) {
    const { server, client } = handshakePair();
    const data = plaintext.subarray(0, size);
    const wire = randomRecords(client.tx, data);
    const headLen = crypto.randomInt(0, 200);
    const [a, b] = duplexPair();
    const stream = new NoiseStream(a, { tx: server.tx, rx: server.rx, head: wire.subarray(0, headLen) });
    const got = readAll(stream);
    await feed(b, wire.subarray(headLen), chunk);
    assert.deepEqual(await got, data, name);
  }
});

test('writes larger than a record are split into frames of at most 4096 bytes', async () => {
  const { server, client } = handshakePair();
  const [a, b] = duplexPair();
  const tx = new NoiseStream(a, { tx: client.tx, rx: client.rx });
  const frames: number[] = [];
  const wire: Buffer[] = [];
  b.on('data', (d: Buffer) => wire.push(d));
  const data = crypto.randomBytes(50_000);
  tx.write(data.subarray(0, 1));
  tx.write(data.subarray(1, 20_000));
  tx.end(data.subarray(20_000));
  await new Promise((r) => b.on('end', r));
  const all = Buffer.concat(wire);
  let off = 0;
  while (off < all.length) {
    assert.equal(all[off], 4);
    const len = all.readUInt16BE(off + 1);
    frames.push(3 + len);
    off += 3 + len;
  }
  assert.ok(frames.every((f) => f <= MAX_MESSAGE_SIZE));
  assert.ok(frames.includes(MAX_MESSAGE_SIZE));
  const [c, d] = duplexPair();
  const rx = new NoiseStream(c, { tx: server.tx, rx: server.rx });
  const got = readAll(rx);
  d.end(all);
  assert.deepEqual(await got, data);
});

test('bad records destroy only their own stream with a coded error and nothing uncaught', async () => {
  const guard = watchUncaught();
  try {
    const healthy = noisePair();
    const echo = readAll(healthy.server);
    const cases: Array<[string, (tx: CipherState) => Buffer, string]> = [
      ['wrong type', () => Buffer.from([5, 0, 16, ...Buffer.alloc(16)]), 'ERR_NOISE_BAD_RECORD_TYPE'],
      ['handshake type', () => Buffer.from([2, 0, 48]), 'ERR_NOISE_BAD_RECORD_TYPE'],
      ['oversize', () => Buffer.from([4, 0x0f, 0xfe]), 'ERR_NOISE_RECORD_TOO_LARGE'],
      ['max u16', () => Buffer.from([4, 0xff, 0xff]), 'ERR_NOISE_RECORD_TOO_LARGE'],
      ['shorter than a tag', () => Buffer.from([4, 0, 5, 1, 2, 3, 4, 5]), 'ERR_NOISE_DECRYPT'],
      ['garbage ciphertext', () => Buffer.concat([Buffer.from([4, 0, 40]), crypto.randomBytes(40)]), 'ERR_NOISE_DECRYPT'],
      ['tampered', (tx) => { const r = sealRecords(tx, Buffer.from('hello')); r[5] = r[5]! ^ 1; return r; }, 'ERR_NOISE_DECRYPT'],
      ['replayed', (tx) => { const r = sealRecords(tx, Buffer.from('x')); return Buffer.concat([r, r]); }, 'ERR_NOISE_DECRYPT'],
      ['reordered', (tx) => { const r1 = sealRecords(tx, Buffer.from('1')); const r2 = sealRecords(tx, Buffer.from('2')); return Buffer.concat([r2, r1]); }, 'ERR_NOISE_DECRYPT'],
      ['truncated at EOF', (tx) => sealRecords(tx, Buffer.from('hello')).subarray(0, 10), 'ERR_NOISE_TRUNCATED'],
      ['good then garbage', (tx) => Buffer.concat([sealRecords(tx, Buffer.from('ok')), Buffer.from('GET / HTTP/1.1\r\n')]), 'ERR_NOISE_BAD_RECORD_TYPE'],
    ];
    for (const [name, make, code] of cases) {
      const { server, client } = handshakePair();
      const [a, b] = duplexPair();
      const stream = new NoiseStream(a, { tx: server.tx, rx: server.rx });
      stream.resume();
      const reason = closeReason(stream);
      b.on('error', () => {});
      b.end(make(client.tx));
      const err = await reason;
      assert.ok(isNoiseError(err), `${name}: ${String(err)}`);
      assert.equal(err.code, code, name);
      assert.ok(a.destroyed, `${name}: underlying destroyed`);
    }
    healthy.client.end('still fine');
    assert.equal((await echo).toString(), 'still fine');
    await delay(10);
    assert.deepEqual(guard.errors, []);
  } finally {
    guard.stop();
  }
});

test('an endless stream of bytes without a valid record is cut off, not buffered', async () => {
  for (const prefix of [Buffer.alloc(0), Buffer.from([4, 0x0f, 0xfd])]) {
    const { server } = handshakePair();
    const [a, b] = duplexPair();
    const stream = new NoiseStream(a, { tx: server.tx, rx: server.rx });
    stream.resume();
    const reason = closeReason(stream);
    b.on('error', () => {});
    let sent = 0;
    b.write(prefix);
    const junk = Buffer.alloc(1024, 0x04);
    // (duplexPair does not carry a destroy across, so watch our stream's close as well.)
    const gone = new Promise((r) => stream.once('close', r));
    while (!stream.destroyed && sent < 10_000_000) {
      if (!b.write(junk)) await Promise.race([new Promise((r) => b.once('drain', r)), gone]);
      sent += junk.length;
      if (sent % (64 * 1024) === 0) await delay(0);
    }
    const err = await reason;
    assert.ok(isNoiseError(err));
    assert.ok(sent < 200_000, `peer could send ${sent} bytes before being cut off`);
  }
});

test('nonce exhaustion ends the stream with ERR_NOISE_NONCE_EXHAUSTED on both sides', async () => {
  const key = crypto.randomBytes(32);
  const other = crypto.randomBytes(32);
  const max = 0xffff_ffff_ffff_fffen;
  const [a, b] = duplexPair();
  const sender = new NoiseStream(a, { tx: new CipherState(key, max), rx: new CipherState(other) });
  const receiver = new NoiseStream(b, { tx: new CipherState(other), rx: new CipherState(key, max) });
  const first = new Promise<Buffer>((r) => receiver.once('data', r));
  const senderErr = closeReason(sender);
  sender.write('last one');
  sender.write('too many');
  assert.equal(((await senderErr) as { code?: string }).code, 'ERR_NOISE_NONCE_EXHAUSTED');
  assert.equal((await first).toString(), 'last one');
  receiver.destroy();

  const [c, d] = duplexPair();
  const rx = new NoiseStream(c, { tx: new CipherState(other), rx: new CipherState(key, max) });
  rx.resume();
  const rxErr = closeReason(rx);
  const tx = new CipherState(key, max);
  d.write(sealRecords(tx, Buffer.from('a')));
  d.write(Buffer.from([4, 0, 16, ...Buffer.alloc(16)]));
  assert.equal(((await rxErr) as { code?: string }).code, 'ERR_NOISE_NONCE_EXHAUSTED');
});

test('half-close propagates both ways and zero-length records are skipped', async () => {
  const { server, client, serverRaw, clientRaw } = noisePair();
  const closed = Promise.all([new Promise((r) => server.on('close', r)), new Promise((r) => client.on('close', r))]);
  const serverGot = readAll(server);
  client.write('');
  client.end('from client');
  assert.equal((await serverGot).toString(), 'from client');
  // The server can still talk after the client half-closed.
  const clientGot = readAll(client);
  server.end('from server');
  assert.equal((await clientGot).toString(), 'from server');
  await closed;
  assert.ok(serverRaw.writableEnded && clientRaw.writableEnded);
});

test('an abrupt close of the underlying stream closes the NoiseStream', async () => {
  const { server, serverRaw } = noisePair();
  server.resume();
  const closed = closeReason(server);
  serverRaw.destroy();
  await closed;
  assert.ok(server.destroyed);
});

test('backpressure: a slow reader pauses the writer instead of buffering everything', async () => {
  const { server, client, serverRaw } = noisePair();
  const total = 8 * 1024 * 1024;
  const chunk = crypto.randomBytes(64 * 1024);
  let written = 0;
  let sawFalse = false;
  const writer = (async () => {
    while (written < total) {
      written += chunk.length;
      if (!server.write(chunk)) {
        sawFalse = true;
        await new Promise((r) => server.once('drain', r));
      }
    }
    server.end();
  })();
  await delay(50); // nobody reads yet
  assert.ok(sawFalse);
  assert.ok(written < 1024 * 1024, `${written} bytes accepted with no reader`);
  assert.ok(serverRaw.writableLength < 1024 * 1024);
  let received = 0;
  for await (const d of client) received += (d as Buffer).length;
  await writer;
  assert.equal(received, total);
});

test('HTTP/2 over NoiseStream: GET, streamed response, concurrent streams, upload echo', async () => {
  const { server, client } = noisePair();
  const h2 = http2.createServer();
  h2.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const path = headers[':path'];
    if (path === '/hello') {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end(`hello from ${server.peerPublicKey?.toString('hex').slice(0, 8)}`);
    } else if (path === '/stream') {
      stream.respond({ ':status': 200 });
      let i = 0;
      const timer = setInterval(() => {
        stream.write(`tick ${i}\n`);
        if (++i === 5) {
          clearInterval(timer);
          stream.end();
        }
      }, 5);
    } else if (path === '/echo') {
      stream.respond({ ':status': 200 });
      stream.pipe(stream);
    } else {
      stream.respond({ ':status': 404 });
      stream.end();
    }
  });
  h2.emit('connection', server);
  const session = http2.connect('http://unused', { createConnection: () => client });
  session.on('error', () => {});
  const request = async (path: string, body?: Buffer): Promise<{ status: number; body: Buffer }> => {
    const req = session.request({ ':path': path, ':method': body ? 'POST' : 'GET' });
    if (body) req.end(body);
    else req.end();
    const content = readAll(req); // attach before awaiting: a bodyless response may end at once
    const status = await new Promise<number>((r) => req.on('response', (h) => r(Number(h[':status']))));
    return { status, body: await content };
  };
  const hello = await request('/hello');
  assert.equal(hello.status, 200);
  assert.match(hello.body.toString(), /^hello from [0-9a-f]{8}$/);
  assert.equal((await request('/stream')).body.toString(), 'tick 0\ntick 1\ntick 2\ntick 3\ntick 4\n');
  const upload = crypto.randomBytes(3 * 1024 * 1024);
  const [echo, ...many] = await Promise.all([request('/echo', upload), ...Array.from({ length: 20 }, () => request('/hello'))]);
  assert.deepEqual(echo!.body, upload);
  assert.ok(many.every((r) => r.status === 200));
  assert.equal((await request('/nope')).status, 404);
  const serverClosed = new Promise((r) => server.on('close', r));
  session.close();
  await serverClosed;
});

/** An HTTP/2 server+client over a fresh in-memory NoiseStream pair. */
function h2Pair(onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void): http2.ClientHttp2Session {
  const { server, client } = noisePair();
  const h2 = http2.createServer();
  h2.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    onStream(stream, headers);
  });
  h2.emit('connection', server);
  const session = http2.connect('http://unused', { createConnection: () => client });
  session.on('error', () => {});
  return session;
}

test('HTTP/2 both peers writing megabytes at once over an in-memory pair does not deadlock', async () => {
  // Each HTTP/2 session stops reading while one of its writes is pending; if our write waited
  // for every 'drain' of the tiny in-memory buffer, both sides would wait for each other.
  const size = 8 * 1024 * 1024;
  const session = h2Pair((stream) => {
    stream.respond({ ':status': 200 });
    stream.resume();
    stream.end(Buffer.alloc(size, 7));
  });
  const req = session.request({ ':path': '/', ':method': 'POST' });
  const body = readAll(req);
  req.end(crypto.randomBytes(size));
  assert.equal((await body).length, size);
  session.close();
});

test('HTTP/2 is never re-entered from inside its own write (in-memory pairs deliver synchronously)', async () => {
  // Without the re-entrancy guard node aborts the whole process with the native assertion
  // "session->is_reading_stopped()".
  const session = h2Pair((stream, headers) => {
    stream.respond({ ':status': 200 });
    if (headers[':path'] === '/echo') stream.pipe(stream);
    else stream.end('hi');
  });
  const request = async (path: string, body?: Buffer): Promise<Buffer> => {
    const req = session.request({ ':path': path, ':method': body ? 'POST' : 'GET' });
    req.end(body);
    await new Promise((r) => req.on('response', r)); // leave the body unread until then
    return readAll(req);
  };
  const upload = crypto.randomBytes(3 * 1024 * 1024);
  const [echo, ...hellos] = await Promise.all([request('/echo', upload), ...Array.from({ length: 20 }, () => request('/hello'))]);
  assert.ok(echo!.equals(upload));
  assert.ok(hellos.every((h) => h.toString() === 'hi'));
  session.close();
});
