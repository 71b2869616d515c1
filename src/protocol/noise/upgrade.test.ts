// End to end over real TCP: a node:http server whose 'upgrade' handler uses acceptTs2021, our
// client (dialTs2021) doing POST /ts2021 or the WebSocket GET, then HTTP/2 through the Noise
// stream; plus the fixed refusals and post-switch faults.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { generatePrivateKey, publicKeyOf } from '../../crypto/keys.js';
import { dialTs2021, type DialedTs2021 } from './client.js';
import { isNoiseError, type NoiseError } from './errors.js';
import { createEarlyPayload } from './early-payload.js';
import { acceptHandshake, initiateHandshake } from './handshake.js';
import { closeReason, readAll, watchUncaught } from './test-kit.js';
import { NoiseStream, sealRecords } from './transport.js';
import { acceptTs2021, isTs2021Request, refusePlainTs2021, type Ts2021Connection } from './upgrade.js';

const serverKey = generatePrivateKey();
const serverPublic = publicKeyOf(serverKey);
const accepted: Ts2021Connection[] = [];
const refused: NoiseError[] = [];
const bySession = new WeakMap<http2.ServerHttp2Session, Ts2021Connection>();
const h2 = http2.createServer();
const httpServer = http.createServer((req, res) => {
  if (isTs2021Request(req)) refusePlainTs2021(res);
  else res.writeHead(404).end();
});
let port = 0;
const guard = watchUncaught();

h2.on('stream', (stream, headers) => {
  stream.on('error', () => {});
  const conn = bySession.get(stream.session as http2.ServerHttp2Session);
  if (headers[':path'] === '/whoami') {
    stream.respond({ ':status': 200 });
    stream.end(JSON.stringify({ machineKey: conn?.machineKey.toString('hex'), version: conn?.protocolVersion, carrier: conn?.carrier }));
  } else if (headers[':path'] === '/stream') {
    stream.respond({ ':status': 200 });
    let n = 0;
    const t = setInterval(() => {
      stream.write(Buffer.alloc(10_000, n));
      if (++n === 20) {
        clearInterval(t);
        stream.end();
      }
    }, 2);
  } else {
    stream.respond({ ':status': 404 });
    stream.end();
  }
});
h2.on('session', (session) => session.on('error', () => {}));

httpServer.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
  if (!isTs2021Request(req)) {
    socket.destroy();
    return;
  }
  let conn: Ts2021Connection;
  try {
    conn = acceptTs2021(req, socket, head, { serverPrivateKey: serverKey });
  } catch (err) {
    refused.push(err as NoiseError);
    return;
  }
  accepted.push(conn);
  conn.stream.on('error', () => {});
  h2.once('session', (session) => bySession.set(session, conn));
  h2.emit('connection', conn.stream);
});

before(async () => {
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  port = (httpServer.address() as net.AddressInfo).port;
});

after(async () => {
  guard.stop();
  assert.deepEqual(guard.errors, []);
  for (const c of accepted) c.stream.destroy();
  httpServer.closeAllConnections();
  await new Promise((r) => httpServer.close(r));
});

async function connect(): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  s.setNoDelay(true);
  await new Promise((r, j) => s.once('connect', r).once('error', j));
  return s;
}

async function h2Get(dialed: DialedTs2021, path: string): Promise<{ status: number; body: Buffer; session: http2.ClientHttp2Session }> {
  const session = http2.connect('http://control.example', { createConnection: () => dialed.stream });
  session.on('error', () => {});
  const req = session.request({ ':path': path });
  req.end();
  const body = readAll(req);
  const status = await new Promise<number>((r) => req.on('response', (h) => r(Number(h[':status']))));
  return { status, body: await body, session };
}

for (const carrier of ['http', 'websocket'] as const) {
  test(`${carrier}: upgrade, handshake, early payload, HTTP/2 GET and streamed response`, async () => {
    const machineKey = generatePrivateKey();
    const dialed = await dialTs2021({
      socket: await connect(),
      machinePrivateKey: machineKey,
      serverPublicKey: serverPublic,
      protocolVersion: 145,
      carrier,
    });
    const conn = accepted.at(-1)!;
    assert.equal(conn.carrier, carrier);
    assert.deepEqual(conn.machineKey, publicKeyOf(machineKey));
    assert.deepEqual(dialed.handshakeHash, conn.handshakeHash);
    if (carrier === 'http') {
      assert.ok(conn.challengePrivateKey);
      assert.deepEqual(dialed.earlyPayload?.nodeKeyChallenge, publicKeyOf(conn.challengePrivateKey));
    } else {
      assert.equal(dialed.earlyPayload, undefined);
    }
    const who = await h2Get(dialed, '/whoami');
    assert.equal(who.status, 200);
    assert.deepEqual(JSON.parse(who.body.toString()), { machineKey: publicKeyOf(machineKey).toString('hex'), version: 145, carrier });
    const req = who.session.request({ ':path': '/stream' });
    req.end();
    const streamed = await readAll(req);
    assert.equal(streamed.length, 200_000);
    const serverClosed = new Promise((r) => conn.stream.on('close', r));
    who.session.close();
    await serverClosed;
  });
}

/** Sends raw request text and returns everything the server sends until it closes. */
async function rawExchange(request: string): Promise<string> {
  const s = await connect();
  const got = readAll(s);
  s.end(request);
  return (await got).toString('latin1');
}

test('refusals before the switch are a fixed 400 text, then the socket closes', async () => {
  const init = initiateHandshake({ machinePrivateKey: generatePrivateKey(), serverPublicKey: serverPublic, protocolVersion: 1 }).initiation;
  const b64 = init.toString('base64');
  const cases: Array<[string, string]> = [
    [`POST /ts2021 HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: h2c\r\nX-Tailscale-Handshake: ${b64}\r\n\r\n`, 'unknown next protocol'],
    ['POST /ts2021 HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: tailscale-control-protocol\r\n\r\n', 'missing Tailscale handshake header'],
    ['POST /ts2021 HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: tailscale-control-protocol\r\nX-Tailscale-Handshake: not*base64\r\n\r\n', 'invalid tailscale handshake header'],
    [`GET /ts2021?X-Tailscale-Handshake=${encodeURIComponent(b64)} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`, 'client must speak the control subprotocol'],
    ['GET /ts2021 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: tailscale-control-protocol\r\n\r\n', 'missing Tailscale handshake parameter'],
    [`GET /ts2021?X-Tailscale-Handshake=${encodeURIComponent(b64)} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: tailscale-control-protocol\r\n\r\n`, 'bad WebSocket upgrade request'],
  ];
  const plain = await rawExchange('POST /ts2021 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  assert.match(plain, /^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\nmissing next protocol\n$/);
  for (const [request, text] of cases) {
    const before = refused.length;
    const response = await rawExchange(request);
    assert.match(response, /^HTTP\/1\.1 400 Bad Request\r\n/, text);
    assert.ok(response.endsWith(`\r\n\r\n${text}\n`), `${text}: ${JSON.stringify(response)}`);
    assert.equal(refused.length, before + 1);
    assert.ok(isNoiseError(refused.at(-1), 'ERR_NOISE_BAD_UPGRADE'));
  }
});

test('a malformed initiation gets 101 and the fixed error frame; a wrong-key one gets 101 and a close', async () => {
  const b64 = Buffer.alloc(10, 7).toString('base64');
  const response = await rawExchange(
    `POST /ts2021 HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: tailscale-control-protocol\r\nX-Tailscale-Handshake: ${b64}\r\n\r\n`,
  );
  const msg = 'wrong handshake initiation size';
  assert.ok(response.startsWith('HTTP/1.1 101 Switching Protocols\r\nUpgrade: tailscale-control-protocol\r\nConnection: upgrade\r\n\r\n'));
  assert.ok(response.endsWith(`\r\n\r\n\x03\x00${String.fromCharCode(msg.length)}${msg}`));
  assert.equal(refused.at(-1)?.code, 'ERR_NOISE_BAD_INITIATION');

  await assert.rejects(
    dialTs2021({ socket: await connect(), machinePrivateKey: generatePrivateKey(), serverPublicKey: publicKeyOf(generatePrivateKey()), protocolVersion: 145 }),
    (e) => isNoiseError(e, 'ERR_NOISE_CLOSED'),
  );
  assert.equal(refused.at(-1)?.code, 'ERR_NOISE_BAD_INITIATION');
});

test('garbage after the switch destroys only that connection, with a code', async () => {
  const socket = await connect();
  const dialed = await dialTs2021({ socket, machinePrivateKey: generatePrivateKey(), serverPublicKey: serverPublic, protocolVersion: 145 });
  const conn = accepted.at(-1)!;
  const reason = closeReason(conn.stream);
  dialed.stream.on('error', () => {});
  socket.write(Buffer.from([4, 0xff, 0xff]));
  assert.ok(isNoiseError(await reason, 'ERR_NOISE_RECORD_TOO_LARGE'));
  // The server still serves new connections.
  const again = await dialTs2021({ socket: await connect(), machinePrivateKey: generatePrivateKey(), serverPublicKey: serverPublic, protocolVersion: 145 });
  const who = await h2Get(again, '/whoami');
  assert.equal(who.status, 200);
  who.session.close();
});

test('the client copes with the 101, the handshake answer and the early payload arriving in pieces', async () => {
  // A hand-written server that answers the way Go's server may: the 101 head in one write
  // (Go flushes it before the handshake), then the rest a few bytes at a time.
  let challenge: Buffer | undefined;
  const srv = net.createServer(async (sock) => {
    sock.on('error', () => {});
    let head = Buffer.alloc(0);
    for await (const chunk of sock.iterator({ destroyOnReturn: false })) {
      head = Buffer.concat([head, chunk as Buffer]);
      if (head.includes('\r\n\r\n')) break;
    }
    const b64 = /X-Tailscale-Handshake: (\S+)/i.exec(head.toString('latin1'))![1]!;
    const hs = acceptHandshake(Buffer.from(b64, 'base64'), serverKey);
    sock.write('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: tailscale-control-protocol\r\n\r\n');
    await new Promise((r) => setTimeout(r, 20));
    const early = createEarlyPayload();
    challenge = early.challengePublicKey;
    const rest = Buffer.concat([hs.response, sealRecords(hs.tx, early.payload.subarray(0, 9)), sealRecords(hs.tx, early.payload.subarray(9))]);
    for (let i = 0; i < rest.length; i += 7) {
      sock.write(rest.subarray(i, i + 7));
      await new Promise((r) => setImmediate(r));
    }
    new NoiseStream(sock, { tx: hs.tx, rx: hs.rx }).end('after the early payload');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const socket = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const dialed = await dialTs2021({ socket, machinePrivateKey: generatePrivateKey(), serverPublicKey: serverPublic, protocolVersion: 145, timeoutMs: 5000 });
    assert.deepEqual(dialed.earlyPayload?.nodeKeyChallenge, challenge);
    assert.equal((await readAll(dialed.stream)).toString(), 'after the early payload');
  } finally {
    srv.close();
  }
});
