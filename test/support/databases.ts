// Test databases for both store backends: a fresh SQLite file in a temp dir, and a fresh
// PostgreSQL database on the server named by SWITCHBOARD_TEST_POSTGRES (scripts/postgres.sh
// starts one). Without that variable the PostgreSQL cases skip loudly, or fail under CI=true.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import pg from 'pg';
import type { TestContext } from 'node:test';
import type { DatabaseOptions, PostgresOptions, SqliteOptions } from '../../src/store/index.js';

export type Backend = 'sqlite' | 'postgres';
export const BACKENDS: Backend[] = ['sqlite', 'postgres'];

export interface TestDatabase {
  options: DatabaseOptions;
  drop(): Promise<void>;
}

export function postgresUrl(): URL | null {
  const url = process.env.SWITCHBOARD_TEST_POSTGRES;
  return url ? new URL(url) : null;
}

/** Returns false (after skipping t, or throwing under CI) when the backend is not available. */
export function requireBackend(t: TestContext, backend: Backend): boolean {
  if (backend === 'sqlite' || postgresUrl()) return true;
  const msg = 'SWITCHBOARD_TEST_POSTGRES is not set: PostgreSQL store tests cannot run (start one with scripts/postgres.sh)';
  if (process.env.CI === 'true') throw new Error(msg);
  process.stderr.write(`\n*** SKIPPING: ${msg} ***\n`);
  t.skip(msg);
  return false;
}

export function sqliteDatabase(): TestDatabase & { options: SqliteOptions; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-sqlite-'));
  return {
    dir,
    options: { type: 'sqlite', path: path.join(dir, 'db.sqlite'), writeAheadLog: true, walAutocheckpoint: 1000 },
    drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export async function postgresDatabase(): Promise<TestDatabase & { options: PostgresOptions }> {
  const url = postgresUrl();
  if (!url) throw new Error('SWITCHBOARD_TEST_POSTGRES is not set');
  const name = `sb_test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const options: PostgresOptions = {
    type: 'postgres',
    host: url.hostname,
    port: Number(url.port || 5432),
    name,
    user: decodeURIComponent(url.username || 'postgres'),
    pass: decodeURIComponent(url.password),
    maxOpenConns: 10,
    connMaxIdleTimeSecs: 3600,
    ssl: false,
  };
  return {
    options,
    drop: async () => {
      const c = new pg.Client({ connectionString: url.toString() });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export async function testDatabase(backend: Backend): Promise<TestDatabase> {
  return backend === 'sqlite' ? sqliteDatabase() : postgresDatabase();
}
