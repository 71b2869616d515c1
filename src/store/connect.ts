// Opens a Kysely instance on SQLite (better-sqlite3, one file, WAL) or PostgreSQL (pg pool) and
// proves the database answers before anything else runs.

import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import type pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { SwitchboardError, describeError } from '../lib/errors.js';
import type { Database } from './tables.js';
import type { Dialect } from './migrations.js';

export interface SqliteOptions {
  type: 'sqlite';
  path: string;
  writeAheadLog: boolean;
  walAutocheckpoint: number;
}

export interface PostgresOptions {
  type: 'postgres';
  host: string;
  port: number | null;
  name: string;
  user: string;
  pass: string;
  maxOpenConns: number;
  connMaxIdleTimeSecs: number;
  /** true/false, or a libpq sslmode such as "require" or "disable". */
  ssl: boolean | string;
}

export type DatabaseOptions = SqliteOptions | PostgresOptions;

export function describeDatabase(opts: DatabaseOptions): string {
  if (opts.type === 'sqlite') return `SQLite database ${opts.path}`;
  const where = opts.host.startsWith('/') ? `socket ${opts.host}` : `${opts.host}:${opts.port ?? 5432}`;
  return `PostgreSQL database "${opts.name}" at ${where}`;
}

export async function connect(opts: DatabaseOptions): Promise<{ db: Kysely<Database>; dialect: Dialect }> {
  return opts.type === 'sqlite' ? connectSqlite(opts) : connectPostgres(opts);
}

function connectSqlite(opts: SqliteOptions): { db: Kysely<Database>; dialect: Dialect } {
  let handle: SqliteDatabase.Database;
  try {
    fs.mkdirSync(path.dirname(opts.path), { recursive: true });
    handle = new SqliteDatabase(opts.path);
    handle.pragma('busy_timeout = 10000');
    handle.pragma('auto_vacuum = INCREMENTAL');
    if (opts.writeAheadLog) {
      handle.pragma('journal_mode = WAL');
      handle.pragma(`wal_autocheckpoint = ${Math.trunc(opts.walAutocheckpoint)}`);
    }
    handle.pragma('synchronous = NORMAL');
    handle.pragma('foreign_keys = ON');
  } catch (err) {
    throw new SwitchboardError('ERR_DB_UNREACHABLE', `cannot open ${describeDatabase(opts)}: ${describeError(err)}`, {
      cause: err,
    });
  }
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(handle) }) }), dialect: 'sqlite' };
}

/** Statements kept by SQL text, as Kysely prepares every query anew (~15 µs each). */
const STATEMENT_CACHE_SIZE = 256;

function withStatementCache(handle: SqliteDatabase.Database): { close(): void; prepare(sql: string): SqliteDatabase.Statement } {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => handle.close(),
    prepare: (text) => {
      let statement = statements.get(text);
      if (!statement) {
        statement = handle.prepare(text);
        if (statements.size < STATEMENT_CACHE_SIZE) statements.set(text, statement); // IN lists of every length are not kept
      }
      return statement;
    },
  };
}

async function connectPostgres(opts: PostgresOptions): Promise<{ db: Kysely<Database>; dialect: Dialect }> {
  // Loaded only here: its start-up work (~15 ms) is not paid by a server on SQLite.
  const { default: postgres } = await import('pg');
  const pool = new postgres.Pool({
    host: opts.host,
    port: opts.port ?? undefined,
    database: opts.name,
    user: opts.user,
    password: opts.pass,
    max: opts.maxOpenConns,
    idleTimeoutMillis: opts.connMaxIdleTimeSecs * 1000,
    connectionTimeoutMillis: 10_000,
    ssl: sslOption(opts.ssl),
  });
  // An idle client that loses its server must not take the process down.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy().catch(() => {});
    throw new SwitchboardError('ERR_DB_UNREACHABLE', `cannot connect to ${describeDatabase(opts)}: ${describeError(err)}`, {
      cause: err,
    });
  }
  return { db, dialect: 'postgres' };
}

function sslOption(ssl: boolean | string): pg.PoolConfig['ssl'] {
  if (ssl === true || ssl === 'require' || ssl === 'verify-ca' || ssl === 'verify-full') {
    return { rejectUnauthorized: ssl === 'verify-ca' || ssl === 'verify-full' };
  }
  return false;
}
