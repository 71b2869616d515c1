// Interop with Tailscale's own Go DERP and STUN client code (tailscale.com v1.102.3, the
// derphttp.Client a tailscaled uses): DERP over TLS with a "sha256-raw:" pinned self-signed
// certificate, DERP over plain HTTP, DERP over WebSocket, and STUN. Needs `go` and the module
// already in the Go module cache (scripts/build-tailscale.sh puts it there); skipped otherwise.
// The build is offline (GOPROXY=off) in a temp dir.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DerpServer, randomDerpPrivateKey } from './server.js';
import { handleDerpRequest, handleDerpUpgrade } from './http.js';
import { derpTlsServerOptions, generateDerpCertificate } from './tls.js';
import { StunServer } from './stun-server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const TS_VERSION = 'v1.102.3';

function goModuleCached(): string | undefined {
  try {
    const modcache = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
    return fs.existsSync(path.join(modcache, `tailscale.com@${TS_VERSION}`)) ? undefined : `tailscale.com@${TS_VERSION} not in the Go module cache`;
  } catch {
    return 'go not installed';
  }
}

const skip = goModuleCached();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-tsderpcheck-'));
const binary = path.join(work, 'tsderpcheck');
after(() => fs.rmSync(work, { recursive: true, force: true }));

before(() => {
  if (skip) return;
  fs.copyFileSync(path.join(here, 'testdata/tsderpcheck/main.go.txt'), path.join(work, 'main.go'));
  fs.copyFileSync(path.join(here, 'testdata/tsderpcheck/go.mod.txt'), path.join(work, 'go.mod'));
  execFileSync('go', ['build', '-tags', 'ts_debug_websockets', '-o', binary, '.'], {
    cwd: work,
    env: { ...process.env, GOFLAGS: '-mod=mod', GOPROXY: 'off', GOSUMDB: 'off', GOTOOLCHAIN: 'local', GOWORK: 'off' },
    stdio: 'pipe',
    timeout: 300_000,
  });
});

function runCheck(args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function serve(server: http.Server, derp: DerpServer, upgrades: string[]): Promise<number> {
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!handleDerpRequest(req, res)) res.writeHead(404).end();
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    upgrades.push(String(req.headers.upgrade).toLowerCase());
    if (!handleDerpUpgrade(derp, req, socket, head)) socket.destroy();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

test('Go derphttp client over TLS with the sha256-raw pin, plus Go STUN', { skip }, async () => {
  const cert = generateDerpCertificate(['127.0.0.1']);
  const derp = new DerpServer({ privateKey: randomDerpPrivateKey() });
  const upgrades: string[] = [];
  const server = https.createServer(derpTlsServerOptions(cert));
  const port = await serve(server, derp, upgrades);
  const stun = new StunServer({ requireSoftware: 'tailnode' });
  const { port: stunPort } = await stun.listen('127.0.0.1', 0);
  try {
    const out = await runCheck(['-port', String(port), '-pin', cert.pin, '-stun', String(stunPort)]);
    assert.match(out, /ok relay\nok ping\nok peergone\nok stun\nPASS/);
    assert.deepEqual(upgrades, ['derp', 'derp']);
    const c = derp.counters;
    assert.equal(c.packetsSent, 2);
    assert.equal(c.peerGoneDisconnectedSent, 1);
    assert.equal(stun.counters.responses, 1);
    // A wrong pin is refused by the Go client.
    await assert.rejects(runCheck(['-port', String(port), '-pin', `sha256-raw:${'00'.repeat(32)}`]), /FAIL: connect a/);
  } finally {
    derp.close();
    server.close();
    await stun.close();
  }
});

test('Go derphttp client over plain HTTP and over WebSocket (TS_DEBUG_DERP_WS_CLIENT)', { skip }, async () => {
  const derp = new DerpServer({ privateKey: randomDerpPrivateKey() });
  const upgrades: string[] = [];
  const server = http.createServer();
  const port = await serve(server, derp, upgrades);
  try {
    assert.match(await runCheck(['-port', String(port)], { TS_DEBUG_USE_DERP_HTTP: '1' }), /PASS/);
    assert.deepEqual(upgrades.splice(0), ['derp', 'derp']);
    assert.match(await runCheck(['-port', String(port)], { TS_DEBUG_USE_DERP_HTTP: '1', TS_DEBUG_DERP_WS_CLIENT: 'true' }), /PASS/);
    assert.deepEqual(upgrades, ['websocket', 'websocket']);
  } finally {
    derp.close();
    server.close();
  }
});
