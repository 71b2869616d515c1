import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { DerpServer, randomDerpPrivateKey } from './server.js';
import { handleDerpRequest, handleDerpUpgrade } from './http.js';
import { connectWebSocket } from './websocket.js';
import { DerpClient } from '../../protocol/derp/client.js';
import { dialDerp, readHttpResponseHead } from '../../protocol/derp/http-client.js';
import { FrameReader, type DerpFrame } from '../../protocol/derp/reader.js';
import { FrameType, encodeFrame } from '../../protocol/derp/frames.js';
import { openServerInfo, sealClientInfo } from '../../protocol/derp/info.js';
import { x25519PublicKey } from '../../protocol/derp/nacl-box.js';

const derp = new DerpServer({ privateKey: randomDerpPrivateKey() });
const httpServer = http.createServer((req, res) => {
  if (!handleDerpRequest(req, res)) {
    res.writeHead(404);
    res.end();
  }
});
httpServer.on('upgrade', (req, socket, head) => {
  if (!handleDerpUpgrade(derp, req, socket, head)) socket.destroy();
});
await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
const port = (httpServer.address() as net.AddressInfo).port;
after(() => {
  derp.close();
  httpServer.close();
});

function connectTcp(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

function request(method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the 101 is exactly what derpserver writes, and ServerKey follows it', async () => {
  const s = await connectTcp();
  s.write('GET /derp HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\n');
  const bytes = await new Promise<Buffer>((resolve) => {
    let buf = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0 && buf.length >= end + 4 + 45) resolve(buf);
    });
  });
  const head =
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\nConnection: Upgrade\r\nDerp-Version: 2\r\n' +
    `Derp-Public-Key: ${derp.publicKey.toString('hex')}\r\n\r\n`;
  assert.equal(bytes.subarray(0, head.length).toString('latin1'), head);
  const frame = bytes.subarray(head.length, head.length + 45);
  assert.equal(frame.subarray(0, 13).toString('hex'), '010000002844455250f09f9491');
  assert.deepEqual(frame.subarray(13), derp.publicKey);
  s.destroy();
});

test('two clients dialled over HTTP relay through the server', async () => {
  const a = await dialDerp({ host: '127.0.0.1', port, privateKey: crypto.randomBytes(32) });
  const b = await dialDerp({ host: '127.0.0.1', port, privateKey: crypto.randomBytes(32) });
  a.send(b.publicKey, Buffer.from('over tcp'));
  assert.equal((await b.next('packet')).data.toString(), 'over tcp');
  b.send(a.publicKey, Buffer.from('and back'));
  assert.equal((await a.next('packet')).data.toString(), 'and back');
  await a.ping();
  a.close();
  b.close();
});

test('fast start: no 101, the ClientInfo sent with the request (in `head`) is used', async () => {
  const s = await connectTcp();
  const sk = crypto.randomBytes(32);
  const info = encodeFrame(FrameType.ClientInfo, sealClientInfo({ version: 2, CanAckPings: true }, sk, x25519PublicKey(sk), derp.publicKey));
  s.write(Buffer.concat([Buffer.from('GET /derp HTTP/1.1\r\nHost: x\r\nUpgrade: DERP\r\nConnection: Upgrade\r\nDerp-Fast-Start: 1\r\n\r\n'), info]));
  const frames: DerpFrame[] = [];
  const raw: Buffer[] = [];
  const reader = new FrameReader({ onFrame: (f) => frames.push(f), onError: (e) => assert.fail(e) });
  s.on('data', (c: Buffer) => {
    raw.push(c);
    reader.push(c);
  });
  const end = Date.now() + 3000;
  while (frames.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  assert.equal(Buffer.concat(raw).subarray(0, 4).toString('latin1') === 'HTTP', false, 'no HTTP response');
  assert.deepEqual(
    frames.map((f) => f.type),
    [FrameType.ServerKey, FrameType.ServerInfo],
  );
  assert.deepEqual(openServerInfo(frames[1]!.payload, sk, derp.publicKey), { version: 2 });
  s.destroy();
});

test('/derp without an upgrade is 426; a foreign Upgrade too', async () => {
  const r = await request('GET', '/derp');
  assert.equal(r.status, 426);
  assert.equal(r.body, 'DERP requires connection upgrade\n');
  const s = await connectTcp();
  s.write('GET /derp HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n');
  const head = await readHttpResponseHead(s);
  assert.equal(head.statusCode, 426);
  s.destroy();
});

test('/derp/probe and /derp/latency-check: HEAD/GET 200 with CORS, others 405', async () => {
  for (const path of ['/derp/probe', '/derp/latency-check']) {
    for (const method of ['GET', 'HEAD']) {
      const r = await request(method, path);
      assert.equal(r.status, 200, `${method} ${path}`);
      assert.equal(r.headers['access-control-allow-origin'], '*');
      assert.equal(r.body, '');
    }
    const bad = await request('POST', path);
    assert.equal(bad.status, 405);
    assert.equal(bad.body, 'bogus probe method\n');
  }
});

test('/generate_204 echoes a valid challenge only', async () => {
  const ok = await request('GET', '/generate_204', { 'X-Tailscale-Challenge': 'abc.DEF:1-2_3' });
  assert.equal(ok.status, 204);
  assert.equal(ok.headers['x-tailscale-response'], 'response abc.DEF:1-2_3');
  const bad = await request('GET', '/generate_204', { 'X-Tailscale-Challenge': 'no spaces' });
  assert.equal(bad.status, 204);
  assert.equal(bad.headers['x-tailscale-response'], undefined);
});

test('WebSocket DERP (subprotocol "derp") relays to and from a plain DERP client', async () => {
  const s = await connectTcp();
  const ws = await connectWebSocket(s, { host: `127.0.0.1:${port}`, path: '/derp', protocols: ['derp'] });
  assert.equal(ws.protocol, 'derp');
  const a = await DerpClient.connect(ws, { privateKey: crypto.randomBytes(32) });
  const b = await dialDerp({ host: '127.0.0.1', port, privateKey: crypto.randomBytes(32) });
  const big = crypto.randomBytes(60_000);
  a.send(b.publicKey, big);
  assert.deepEqual((await b.next('packet')).data, big);
  b.send(a.publicKey, Buffer.from('to the browser'));
  assert.equal((await a.next('packet')).data.toString(), 'to the browser');
  await a.ping();
  a.close();
  assert.deepEqual((await b.next('peerGone')).peer, a.publicKey);
  b.close();
});

test('WebSocket without the derp subprotocol token is closed with 1008', async () => {
  const s = await connectTcp();
  const ws = await connectWebSocket(s, { host: 'x', path: '/derp', protocols: ['derpy'] });
  assert.equal(ws.protocol, undefined);
  const closed = await new Promise<boolean>((resolve) => {
    ws.on('end', () => resolve(true));
    ws.on('error', () => resolve(true));
    ws.resume();
  });
  assert.ok(closed);
  assert.equal(ws.peerCloseCode, 1008);
  s.destroy();
});
