// Row shapes of the tables as Kysely sees them. Column names follow headscale 0.29's schema so a
// later import of a headscale database maps one to one. Values are what the drivers return:
// timestamps are ISO text in SQLite and Date in PostgreSQL, flags are 0/1 or booleans, ids may be
// bigint strings in PostgreSQL; codec.ts turns them into domain values.

import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date | string, string, string>;
type NullableTimestamp = ColumnType<Date | string | null, string | null, string | null>;
type Flag = ColumnType<number | boolean, number, number>;
type Id = Generated<number | string>;
type Ref = number | string | null;

export interface UsersTable {
  id: Id;
  name: string;
  display_name: string;
  email: string;
  provider_identifier: string | null;
  provider: string;
  profile_pic_url: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PreAuthKeysTable {
  id: Id;
  key: string;
  prefix: string;
  hash: Buffer | null;
  user_id: Ref;
  reusable: Flag;
  ephemeral: Flag;
  used: Flag;
  tags: string; // JSON array
  expiration: NullableTimestamp;
  created_at: Timestamp;
}

export interface ApiKeysTable {
  id: Id;
  prefix: string;
  hash: Buffer;
  expiration: NullableTimestamp;
  last_seen: NullableTimestamp;
  created_at: Timestamp;
}

export interface NodesTable {
  id: Id;
  machine_key: string;
  node_key: string;
  disco_key: string;
  endpoints: string; // JSON array of "ip:port"
  host_info: string; // JSON tailcfg.Hostinfo, "" when unknown
  ipv4: string | null;
  ipv6: string | null;
  hostname: string;
  given_name: string;
  user_id: Ref;
  register_method: string;
  tags: string; // JSON array
  auth_key_id: Ref;
  last_seen: NullableTimestamp;
  expiry: NullableTimestamp;
  approved_routes: string; // JSON array of prefixes
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PoliciesTable {
  id: Id;
  data: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface DatabaseVersionsTable {
  id: number;
  version: string;
  updated_at: Timestamp;
}

export interface Database {
  users: UsersTable;
  pre_auth_keys: PreAuthKeysTable;
  api_keys: ApiKeysTable;
  nodes: NodesTable;
  policies: PoliciesTable;
  database_versions: DatabaseVersionsTable;
}
