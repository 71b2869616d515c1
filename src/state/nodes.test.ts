import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { withState } from '../../test/support/state.js';
import { TAGGED_DEVICES_USER } from '../domain/user.js';
import type { State } from './state.js';

const key = (kind: string) => `${kind}:${crypto.randomBytes(32).toString('hex')}`;

async function join(state: State, userId: number): Promise<number> {
  const node = await state.nodes.add({
    machineKey: key('mkey'),
    nodeKey: key('nodekey'),
    discoKey: '',
    endpoints: [],
    hostinfo: null,
    ipv4: null,
    ipv6: null,
    hostname: 'box',
    givenName: 'box',
    userId,
    tags: [],
    authKeyId: null,
    expiry: null,
    lastSeen: null,
    approvedRoutes: [],
    registerMethod: 'authkey',
  });
  return node.id;
}

test('owners() follows joins, tagging and deletion; sorted() is list() without the copy', async () => {
  await withState(async (state) => {
    const alice = await state.users.create({ name: 'alice' });
    const bob = await state.users.create({ name: 'bob' });
    const a1 = await join(state, alice.id);
    const a2 = await join(state, alice.id);
    const b1 = await join(state, bob.id);
    const owners = () => [...state.nodes.owners()].sort((x, y) => x - y);
    assert.deepEqual(owners(), [alice.id, bob.id]);

    await state.nodes.setTags(b1, ['tag:server']); // bob's only node now belongs to the tagged-devices user
    assert.deepEqual(owners(), [alice.id, TAGGED_DEVICES_USER.id].sort((x, y) => x - y));
    await state.nodes.delete(a1);
    assert.deepEqual(owners(), [alice.id, TAGGED_DEVICES_USER.id].sort((x, y) => x - y));
    await state.nodes.delete(a2);
    assert.deepEqual(owners(), [TAGGED_DEVICES_USER.id]);

    const sorted = state.nodes.sorted();
    assert.deepEqual(sorted.map((n) => n.id), state.nodes.list().map((n) => n.id));
    assert.equal(state.nodes.sorted(), sorted, 'the same array while nothing changed');
    assert.notEqual(state.nodes.list(), state.nodes.list(), 'list() hands out copies');
  });
});
