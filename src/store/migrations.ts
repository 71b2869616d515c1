// The schema's history: an append-only list of migrations, run in order on both databases.
// Never edit or reorder a migration that has shipped; add a new one instead. Each migration
// gets the dialect so it can pick column types (SQLite text timestamps vs timestamptz, ...).

import { sql, type Kysely, type Migration } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

interface ColumnTypes {
  id: 'integer' | 'bigserial';
  ref: 'integer' | 'bigint';
  timestamp: 'text' | 'timestamptz';
  flag: 'integer' | 'boolean';
  blob: 'blob' | 'bytea';
}

function columnTypes(dialect: Dialect): ColumnTypes {
  return dialect === 'sqlite'
    ? { id: 'integer', ref: 'integer', timestamp: 'text', flag: 'integer', blob: 'blob' }
    : { id: 'bigserial', ref: 'bigint', timestamp: 'timestamptz', flag: 'boolean', blob: 'bytea' };
}

type Step = (db: Kysely<any>, t: ColumnTypes, dialect: Dialect) => Promise<void>;

/** name → step; names sort in the order they run. */
const STEPS: Array<[string, Step]> = [
  ['0001-initial-schema', initialSchema],
];

export const MIGRATION_NAMES: readonly string[] = STEPS.map(([name]) => name);

export function migrationsFor(dialect: Dialect): Record<string, Migration> {
  const t = columnTypes(dialect);
  return Object.fromEntries(STEPS.map(([name, step]) => [name, { up: (db: Kysely<any>) => step(db, t, dialect) }]));
}

async function initialSchema(db: Kysely<any>, t: ColumnTypes, dialect: Dialect): Promise<void> {
  const idColumn = (c: any) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey());
  const falseFlag = dialect === 'sqlite' ? sql`0` : sql`false`;

  await db.schema
    .createTable('users')
    .addColumn('id', t.id, idColumn)
    .addColumn('name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('display_name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('email', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('provider_identifier', 'text')
    .addColumn('provider', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('profile_pic_url', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('idx_provider_identifier')
    .unique()
    .on('users')
    .column('provider_identifier')
    .where(sql.ref('provider_identifier'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('idx_name_no_provider_identifier')
    .unique()
    .on('users')
    .column('name')
    .where(sql.ref('provider_identifier'), 'is', null)
    .execute();

  await db.schema
    .createTable('pre_auth_keys')
    .addColumn('id', t.id, idColumn)
    .addColumn('key', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('prefix', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('hash', t.blob)
    .addColumn('user_id', t.ref, (c) => c.references('users.id').onDelete('set null'))
    .addColumn('reusable', t.flag, (c) => c.notNull().defaultTo(falseFlag))
    .addColumn('ephemeral', t.flag, (c) => c.notNull().defaultTo(falseFlag))
    .addColumn('used', t.flag, (c) => c.notNull().defaultTo(falseFlag))
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('expiration', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('idx_pre_auth_keys_prefix')
    .unique()
    .on('pre_auth_keys')
    .column('prefix')
    .where(sql.ref('prefix'), '<>', '')
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', t.id, idColumn)
    .addColumn('prefix', 'text', (c) => c.notNull().unique())
    .addColumn('hash', t.blob, (c) => c.notNull())
    .addColumn('expiration', t.timestamp)
    .addColumn('last_seen', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('nodes')
    .addColumn('id', t.id, idColumn)
    .addColumn('machine_key', 'text', (c) => c.notNull())
    .addColumn('node_key', 'text', (c) => c.notNull())
    .addColumn('disco_key', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('endpoints', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('host_info', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('ipv4', 'text')
    .addColumn('ipv6', 'text')
    .addColumn('hostname', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('given_name', 'varchar(63)', (c) => c.notNull())
    .addColumn('user_id', t.ref, (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('register_method', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('auth_key_id', t.ref, (c) => c.references('pre_auth_keys.id').onDelete('set null'))
    .addColumn('last_seen', t.timestamp)
    .addColumn('expiry', t.timestamp)
    .addColumn('approved_routes', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('idx_nodes_machine_key').on('nodes').column('machine_key').execute();
  await db.schema.createIndex('idx_nodes_node_key').unique().on('nodes').column('node_key').execute();
  await db.schema.createIndex('idx_nodes_given_name').unique().on('nodes').column('given_name').execute();
  await db.schema.createIndex('idx_nodes_ipv4').unique().on('nodes').column('ipv4').execute();
  await db.schema.createIndex('idx_nodes_ipv6').unique().on('nodes').column('ipv6').execute();

  await db.schema
    .createTable('policies')
    .addColumn('id', t.id, idColumn)
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('database_versions')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
}
