// The store's public face.
export { Store, type Repos } from './store.js';
export { describeDatabase, type DatabaseOptions, type PostgresOptions, type SqliteOptions } from './connect.js';
export type { NewNode } from './nodes-repo.js';
export type { NewUser } from './users-repo.js';
export type { NewPreAuthKey } from './auth-keys-repo.js';
export type { StoredPolicy } from './policies-repo.js';
export { compareVersions } from './version-guard.js';
export { isUniqueViolation } from './unique.js';
