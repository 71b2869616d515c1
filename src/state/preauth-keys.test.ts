import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withState } from '../../test/support/state.js';
import { isSwitchboardError } from '../lib/errors.js';

test('a single-use key registers once, then is refused as used', async () => {
  await withState(async (state) => {
    const alice = await state.users.create({ name: 'alice' });
    const { full } = await state.preAuthKeys.create({ userId: alice.id, reusable: false, ephemeral: false, expiration: null, tags: [] });
    const key = await state.preAuthKeys.redeem(full);
    assert.equal(key.userId, alice.id);
    await assert.rejects(state.preAuthKeys.redeem(full), (err) => isSwitchboardError(err, 'ERR_AUTHKEY_USED'));
  });
});

test('of concurrent registrations with one single-use key, exactly one wins', async () => {
  await withState(async (state) => {
    const { full } = await state.preAuthKeys.create({ userId: null, reusable: false, ephemeral: false, expiration: null, tags: ['tag:x'] });
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => state.preAuthKeys.redeem(full)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(isSwitchboardError(r.reason, 'ERR_AUTHKEY_USED'));
  });
});

test('reusable keys register many times; expired keys never', async () => {
  await withState(async (state) => {
    const { full } = await state.preAuthKeys.create({ userId: null, reusable: true, ephemeral: false, expiration: null, tags: ['tag:x'] });
    await state.preAuthKeys.redeem(full);
    await state.preAuthKeys.redeem(full);
    const old = await state.preAuthKeys.create({ userId: null, reusable: true, ephemeral: false, expiration: new Date(Date.now() - 1000), tags: ['tag:x'] });
    await assert.rejects(state.preAuthKeys.redeem(old.full), (err) => isSwitchboardError(err, 'ERR_AUTHKEY_EXPIRED'));
  });
});

test('a wrong or malformed key is refused without repeating it', async () => {
  await withState(async (state) => {
    const { full } = await state.preAuthKeys.create({ userId: null, reusable: true, ephemeral: false, expiration: null, tags: ['tag:x'] });
    const wrongSecret = full.slice(0, -4) + 'AAAA';
    for (const bad of [wrongSecret, 'hskey-auth-nonsense', '<script>alert(1)</script>', '']) {
      await assert.rejects(state.preAuthKeys.redeem(bad), (err) => {
        assert.ok(isSwitchboardError(err, 'ERR_AUTHKEY_INVALID'));
        assert.equal(err.message, 'invalid authkey');
        return true;
      });
    }
  });
});
