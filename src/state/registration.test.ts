import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { withState } from '../../test/support/state.js';
import { RegisterHttpError } from './registration.js';
import type { RegisterRequest } from '../tailcfg/types.js';
import type { State } from './state.js';

const mkey = () => `mkey:${crypto.randomBytes(32).toString('hex')}`;
const nodekey = () => `nodekey:${crypto.randomBytes(32).toString('hex')}`;
const ZERO = '0001-01-01T00:00:00Z';

function request(over: Partial<RegisterRequest> = {}): RegisterRequest {
  return { Version: 142, NodeKey: nodekey(), Expiry: ZERO, Hostinfo: { Hostname: 'Alice Laptop', OS: 'linux' }, ...over };
}

async function keyFor(state: State, opts: { user?: string; tags?: string[]; reusable?: boolean; ephemeral?: boolean } = {}): Promise<string> {
  const user = opts.user ? (state.users.list({ name: opts.user })[0] ?? (await state.users.create({ name: opts.user }))) : null;
  const { full } = await state.preAuthKeys.create({
    userId: user?.id ?? null,
    reusable: opts.reusable ?? false,
    ephemeral: opts.ephemeral ?? false,
    expiration: null,
    tags: opts.tags ?? [],
  });
  return full;
}

test('old clients are refused with a readable message', async () => {
  await withState(async (state) => {
    await assert.rejects(state.registration.register(mkey(), request({ Version: 100 })), (err) => {
      assert.ok(err instanceof RegisterHttpError);
      assert.equal(err.status, 400);
      assert.match(err.message, /capability version 100 is older than 113 \(Tailscale v1\.80\)/);
      return true;
    });
  });
});

test('an auth key registers a node; a restart changes nothing', async () => {
  await withState(async (state) => {
    const machine = mkey();
    const req = request({ Auth: { AuthKey: await keyFor(state, { user: 'alice' }) } });
    const res = await state.registration.register(machine, req);
    assert.equal(res.Error, undefined);
    assert.equal(res.MachineAuthorized, true);
    assert.equal(res.AuthURL, '');
    assert.equal(res.Login.LoginName, 'alice');
    const node = state.nodes.findByNodeKey(req.NodeKey)!;
    assert.equal(node.givenName, 'alice-laptop');
    assert.equal(node.ipv4, '100.64.0.1');
    assert.equal(node.ipv6, 'fd7a:115c:a1e0::1');
    assert.equal(node.expiry, null);

    // tailscaled restarted: same key, no auth, zero expiry.
    const again = await state.registration.register(machine, { ...req, Auth: null });
    assert.equal(again.MachineAuthorized, true);
    assert.equal(state.nodes.list().length, 1);
    assert.equal(state.nodes.get(node.id), node, 'the node object is untouched');
  });
});

test('a node key owned by another machine is refused', async () => {
  await withState(async (state) => {
    const req = request({ Auth: { AuthKey: await keyFor(state, { user: 'alice', reusable: true }) } });
    await state.registration.register(mkey(), req);
    const res = await state.registration.register(mkey(), req);
    assert.equal(res.Error, 'node exists with a different machine key');
    assert.equal(res.MachineAuthorized, false);
  });
});

test('a used single-use key and an unknown key are refused without a node', async () => {
  await withState(async (state) => {
    const key = await keyFor(state, { user: 'alice' });
    await state.registration.register(mkey(), request({ Auth: { AuthKey: key } }));
    const used = await state.registration.register(mkey(), request({ Auth: { AuthKey: key } }));
    assert.equal(used.Error, 'authkey already used');
    const bogus = await state.registration.register(mkey(), request({ Auth: { AuthKey: 'hskey-auth-nope' } }));
    assert.equal(bogus.Error, 'invalid authkey');
    assert.equal(state.nodes.list().length, 1);
  });
});

test('logout expires the node; an ephemeral node is deleted instead', async () => {
  await withState(async (state) => {
    const machine = mkey();
    const req = request({ Auth: { AuthKey: await keyFor(state, { user: 'alice' }) } });
    await state.registration.register(machine, req);
    const out = await state.registration.register(machine, { ...req, Auth: null, Expiry: '1970-01-01T00:02:03Z' });
    assert.equal(out.NodeKeyExpired, true);
    const node = state.nodes.findByNodeKey(req.NodeKey)!;
    assert.ok(node.expiry!.getTime() <= Date.now());
    const refresh = await state.registration.register(machine, { ...req, Auth: null });
    assert.equal(refresh.NodeKeyExpired, true, 'an expired node stays logged out on refresh');

    const eph = request({ Auth: { AuthKey: await keyFor(state, { user: 'alice', ephemeral: true }) } });
    const em = mkey();
    await state.registration.register(em, eph);
    assert.ok(state.nodes.isEphemeral(state.nodes.findByNodeKey(eph.NodeKey)!.id));
    await state.registration.register(em, { ...eph, Auth: null, Expiry: '1970-01-01T00:02:03Z' });
    assert.equal(state.nodes.findByNodeKey(eph.NodeKey), undefined);
  });
});

test('tagged keys make tagged nodes that never expire; node.expiry applies to user nodes', async () => {
  await withState(
    async (state) => {
      const t = request({ Auth: { AuthKey: await keyFor(state, { tags: ['tag:server'] }) } });
      const res = await state.registration.register(mkey(), t);
      assert.equal(res.Login.LoginName, 'tagged-devices');
      const tagged = state.nodes.findByNodeKey(t.NodeKey)!;
      assert.equal(tagged.userId, null);
      assert.deepEqual(tagged.tags, ['tag:server']);
      assert.equal(tagged.expiry, null);

      const u = request({ Auth: { AuthKey: await keyFor(state, { user: 'bob' }) } });
      await state.registration.register(mkey(), u);
      const expiry = state.nodes.findByNodeKey(u.NodeKey)!.expiry!;
      assert.ok(Math.abs(expiry.getTime() - (Date.now() + 3_600_000)) < 5_000);
    },
    { nodeExpiryMs: 3_600_000 },
  );
});

test('node key rotation keeps the same node', async () => {
  await withState(async (state) => {
    const machine = mkey();
    const req = request({ Auth: { AuthKey: await keyFor(state, { user: 'alice' }) } });
    await state.registration.register(machine, req);
    const id = state.nodes.findByNodeKey(req.NodeKey)!.id;
    const next = nodekey();
    const res = await state.registration.register(machine, request({ NodeKey: next, OldNodeKey: req.NodeKey }));
    assert.equal(res.MachineAuthorized, true);
    assert.equal(state.nodes.findByNodeKey(next)?.id, id);
    assert.equal(state.nodes.findByNodeKey(req.NodeKey), undefined);
    // Rotation from another machine's key is not honoured: that is a new interactive login.
    const other = await state.registration.register(mkey(), request({ NodeKey: nodekey(), OldNodeKey: next }));
    assert.match(other.AuthURL, /\/register\/hskey-authreq-/);
  });
});

test('interactive login: AuthURL, the follow-up waits, the admin approves', async () => {
  await withState(async (state) => {
    await state.users.create({ name: 'carol' });
    const machine = mkey();
    const req = request({ Hostinfo: { Hostname: 'desk' } });
    const first = await state.registration.register(machine, req);
    assert.match(first.AuthURL, /^http:\/\/127\.0\.0\.1:8080\/register\/hskey-authreq-[A-Za-z0-9]{24}$/);
    assert.equal(first.MachineAuthorized, false);
    const authId = first.AuthURL.split('/').pop()!;

    const waiting = state.registration.register(machine, { ...req, Followup: first.AuthURL });
    let settled = false;
    void waiting.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(settled, false, 'the follow-up blocks until approval');

    await assert.rejects(state.registration.approve(authId, 'nobody'), /user "nobody" not found/);
    const node = await state.registration.approve(authId, 'carol');
    const done = await waiting;
    assert.equal(done.MachineAuthorized, true);
    assert.equal(done.Login.LoginName, 'carol');
    assert.equal(node.registerMethod, 'cli');
    assert.equal(node.givenName, 'desk');
    await assert.rejects(state.registration.approve(authId, 'carol'), /no pending registration/);
    await assert.rejects(state.registration.approve('bogus', 'carol'), /invalid auth ID/);
  });
});

test('a follow-up for an unknown login URL gets a fresh one', async () => {
  await withState(async (state) => {
    const res = await state.registration.register(mkey(), request({ Followup: 'http://127.0.0.1:8080/register/hskey-authreq-AAAAAAAAAAAAAAAAAAAAAAAA' }));
    assert.match(res.AuthURL, /\/register\/hskey-authreq-/);
    assert.doesNotMatch(res.AuthURL, /AAAAAAAAAAAAAAAAAAAAAAAA/);
  });
});
