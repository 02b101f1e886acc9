/**
 * One keyhole over a given set of servers, on a fixed port and SQLite file, that can be stopped and started again
 * (restart tests). The upstream peers are started by the test itself.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load-config.js';
import { createKeyhole, type Keyhole } from '../../src/keyhole.js';
import { keyringFromMasterKey } from '../../src/store/crypto/vault-cipher.js';
import type { KeyholeConfig } from '../../src/config/schema.js';

export interface KeyholeInstanceOptions {
  port: number;
  dir: string;
  servers: Record<string, unknown>;
  /** Extra top-level config. */
  config?: Record<string, unknown>;
  /** Environment for `${VAR}` substitution. */
  env?: NodeJS.ProcessEnv;
  masterKey?: string;
}

export interface KeyholeInstance {
  keyhole: Keyhole;
  config: KeyholeConfig;
  publicUrl: string;
  dbPath: string;
  masterKey: string;
  logs: string[];
  close(): Promise<void>;
}

export async function startKeyholeInstance(opts: KeyholeInstanceOptions): Promise<KeyholeInstance> {
  const publicUrl = `http://127.0.0.1:${opts.port}`;
  const dbPath = join(opts.dir, 'keyhole.db');
  const config = parseConfig(
    { publicUrl, listen: { host: '127.0.0.1', port: opts.port }, storage: { sqlite: dbPath, vault: 'sqlite' }, ...opts.config, servers: opts.servers },
    opts.env ?? process.env,
  );
  const masterKey = opts.masterKey ?? randomBytes(32).toString('base64url');
  const logs: string[] = [];
  const keyhole = await createKeyhole({ config, keyring: keyringFromMasterKey(masterKey), log: (l) => logs.push(l) });
  await keyhole.listen();
  return { keyhole, config, publicUrl, dbPath, masterKey, logs, close: () => keyhole.close() };
}
