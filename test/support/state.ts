// A State on a fresh SQLite database, for tests of the state layer without any server.

import { Store } from '../../src/store/index.js';
import { State, type StateOptions } from '../../src/state/index.js';
import { sqliteDatabase } from './databases.js';

export const TEST_STATE_OPTIONS: StateOptions = {
  baseDomain: 'tailnet.test',
  serverUrl: 'http://127.0.0.1:8080',
  nodeExpiryMs: 0,
  prefixes: { v4: '100.64.0.0/10', v6: 'fd7a:115c:a1e0::/48' },
  allocation: 'sequential',
  policy: { mode: 'database', path: '' },
};

export async function withState(fn: (state: State) => Promise<void>, options: Partial<StateOptions> = {}): Promise<void> {
  const db = sqliteDatabase();
  const store = await Store.open(db.options, '0.1.0');
  try {
    await fn(await State.load(store, { ...TEST_STATE_OPTIONS, ...options }));
  } finally {
    await store.close();
    await db.drop();
  }
}
