// The configuration module's public face: load once at start-up, dump for inspection, and the
// schema table for anything that documents or checks keys.

export { loadConfig, loadConfigText, type LoadConfigOptions, type LoadTextOptions } from './load.js';
export { dumpConfig, SECRET_MASK } from './dump.js';
export { resolveConfigPath, resolveConfigPaths } from './paths.js';
export { envKeyName, ENV_PREFIXES } from './env.js';
export { SCHEMA, specFor, describeType, type KeySpec, type ValueType } from './schema.js';
export { REMOVED_KEYS, type RemovedKey } from './removed.js';
export { BUILTIN_CONFIG_YAML } from './builtin.js';
export { SYSTEM_CONFIG_DIR } from './locate.js';
export type {
  Config,
  LoadedConfig,
  DnsRecord,
  LogLevel,
  DerpConfig,
  DerpServerConfig,
  NodeConfig,
  DatabaseConfig,
  DnsConfig,
  OidcConfig,
  TuningConfig,
} from './types.js';
