import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { derpTlsServerOptions, generateDerpCertificate, loadOrCreateDerpCertificate } from './tls.js';
import { DerpServer, randomDerpPrivateKey } from './server.js';
import { handleDerpRequest, handleDerpUpgrade } from './http.js';
import { checkPinnedPeer, dialDerp } from '../../protocol/derp/http-client.js';
import { skipWithout } from '../../../test/support/prerequisites.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-derp-tls-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const files = { certPath: path.join(dir, 'tls', 'derp.crt'), keyPath: path.join(dir, 'tls', 'derp.key') };

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('the certificate is created once, reused, and replaced when names change, expiry nears or files are junk', () => {
  const first = loadOrCreateDerpCertificate({ ...files, hostNames: ['127.0.0.1', 'derp.test'] });
  assert.equal(first.created, 'missing');
  assert.match(first.pin, /^sha256-raw:[0-9a-f]{64}$/);
  assert.equal(first.pin, `sha256-raw:${crypto.createHash('sha256').update(first.certDer).digest('hex')}`);
  assert.equal(fs.statSync(files.keyPath).mode & 0o777, 0o600);

  const again = loadOrCreateDerpCertificate({ ...files, hostNames: ['derp.test'] }); // a subset is still covered
  assert.equal(again.created, undefined);
  assert.equal(again.pin, first.pin);

  const renamed = loadOrCreateDerpCertificate({ ...files, hostNames: ['127.0.0.1', 'other.test'] });
  assert.equal(renamed.created, 'names-changed');
  assert.notEqual(renamed.pin, first.pin);

  const later = new Date(Date.now() + 5 * 365 * 24 * 3600 * 1000);
  assert.equal(loadOrCreateDerpCertificate({ ...files, hostNames: ['127.0.0.1'], now: later }).created, 'expiring');

  fs.writeFileSync(files.certPath, 'junk');
  assert.equal(loadOrCreateDerpCertificate({ ...files, hostNames: ['127.0.0.1'] }).created, 'invalid');
  assert.throws(() => loadOrCreateDerpCertificate({ ...files, hostNames: [] }), { code: 'ERR_DERP_TLS' });
});

test('node parses it: v3, self-signed, P-256, SANs, server auth, not a CA', () => {
  const c = generateDerpCertificate(['127.0.0.1', '::1', 'derp.test']);
  const x = new crypto.X509Certificate(c.certPem);
  assert.equal(x.subject, 'CN=127.0.0.1');
  assert.equal(x.issuer, x.subject);
  assert.equal(x.ca, false);
  assert.ok(x.verify(x.publicKey), 'self-signature verifies');
  assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.equal(x.checkIP('127.0.0.1'), '127.0.0.1');
  assert.ok(x.checkIP('::1'));
  assert.equal(x.checkHost('derp.test'), 'derp.test');
  assert.equal(x.checkHost('other.test'), undefined);
  assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.ok(Date.parse(x.validFrom) < Date.now() && Date.parse(x.validTo) > Date.now() + 4 * 365 * 24 * 3600 * 1000);
  assert.deepEqual(x.raw, c.certDer);
});

test('openssl x509 parses it', { skip: skipWithout(hasOpenssl(), 'openssl not installed') }, () => {
  const c = loadOrCreateDerpCertificate({ ...files, hostNames: ['127.0.0.1', 'derp.test'] });
  const text = execFileSync('openssl', ['x509', '-in', files.certPath, '-noout', '-text'], { encoding: 'utf8' });
  assert.match(text, /Version: 3 \(0x2\)/);
  assert.match(text, /ecdsa-with-SHA256/);
  assert.match(text, /IP Address:127\.0\.0\.1/);
  assert.match(text, /DNS:derp\.test/);
  assert.match(text, /CA:FALSE/);
  const fp = execFileSync('openssl', ['x509', '-in', files.certPath, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
  assert.equal(fp.trim().split('=')[1]!.replace(/:/g, '').toLowerCase(), c.pin.slice('sha256-raw:'.length));
});

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

test('tls.createServer serves it; tls.connect accepts it by pin (and by CA), not with a wrong pin or name', async () => {
  const c = generateDerpCertificate(['127.0.0.1', 'derp.test']);
  const server = tls.createServer(derpTlsServerOptions(c), (s) => s.end('hello'));
  const port = await listen(server);
  const connect = (name: string, pin: string) =>
    new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(net.isIP(name) ? {} : { servername: name }) }, () => {
        const err = checkPinnedPeer(s, pin, name);
        if (err) {
          s.destroy();
          reject(err);
          return;
        }
        let got = '';
        s.on('data', (d: Buffer) => (got += d.toString()));
        s.on('end', () => resolve(got));
      });
      s.on('error', reject);
    });
  assert.equal(await connect('127.0.0.1', c.pin), 'hello');
  assert.equal(await connect('derp.test', c.pin), 'hello');
  await assert.rejects(connect('127.0.0.1', `sha256-raw:${'00'.repeat(32)}`), /cert hash does not match/);
  await assert.rejects(connect('wrong.test', c.pin), /does not match server name/);
  // Trusting the certificate as a CA works too (SSL_CERT_FILE style).
  const viaCa = await new Promise<string>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: c.certPem, servername: 'derp.test' }, () => {
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString()));
      s.on('end', () => resolve(got));
    });
    s.on('error', reject);
  });
  assert.equal(viaCa, 'hello');
  server.close();
});

test('DERP over real TLS on 127.0.0.1 with the pinned self-signed certificate', async () => {
  const c = loadOrCreateDerpCertificate({ ...files, hostNames: ['127.0.0.1'] });
  const derp = new DerpServer({ privateKey: randomDerpPrivateKey() });
  const server = https.createServer(derpTlsServerOptions(c), (req, res) => {
    if (!handleDerpRequest(req, res)) res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => {
    if (!handleDerpUpgrade(derp, req, socket, head)) socket.destroy();
  });
  const port = await listen(server);
  const opts = { host: '127.0.0.1', port, tls: { pin: c.pin } };
  const a = await dialDerp({ ...opts, privateKey: crypto.randomBytes(32) });
  const b = await dialDerp({ ...opts, privateKey: crypto.randomBytes(32) });
  a.send(b.publicKey, Buffer.from('over tls'));
  assert.equal((await b.next('packet')).data.toString(), 'over tls');
  b.send(a.publicKey, Buffer.from('back over tls'));
  assert.equal((await a.next('packet')).data.toString(), 'back over tls');
  assert.ok((await a.ping()) >= 0);
  await assert.rejects(dialDerp({ ...opts, tls: { pin: `sha256-raw:${'ab'.repeat(32)}` }, privateKey: crypto.randomBytes(32) }), {
    code: 'ERR_DERP_HTTP',
  });
  const probe = await new Promise<number>((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: '/derp/latency-check', ca: c.certPem }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
  assert.equal(probe, 200);
  a.close();
  b.close();
  derp.close();
  server.close();
});
