/** Public API of mcp-keyhole (for embedding and tests). */
export { createKeyhole, keyringFromEnv, MissingMasterKeyError, type Keyhole, type KeyholeOptions } from './keyhole.js';
export { loadKeyring, keySourceFor, type KeySource } from './vault/key-sources.js';
export { UpstreamVault, type VaultBackend } from './vault/upstream-vault.js';
export { createApp, type AppDeps } from './app.js';
export { parseConfig, loadConfigFile, ConfigError } from './config/load-config.js';
export { configSchema, type KeyholeConfig, type ServerConfig } from './config/schema.js';
export type { Store } from './store/types.js';
export { openSqliteStore, SqliteLockedError } from './store/sqlite/sqlite-store.js';
export { createPostgresStore } from './store/postgres/postgres-store.js';
export { openStore } from './store/open-store.js';
