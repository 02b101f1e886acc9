/**
 * Assembles a keyhole instance from a validated config, in data-flow order:
 * store → vault cipher → events → upstream clients → grant revoker → upstream token manager → forwarder → app.
 */
import { hkdfSync } from 'node:crypto';
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { KeyholeConfig } from './config/schema.js';
import type { Store } from './store/types.js';
import { openSqliteStore } from './store/sqlite/sqlite-store.js';
import { VaultCipher, keyringFromMasterKey, type Keyring } from './store/crypto/vault-cipher.js';
import { EventRecorder, type LogSink } from './events/recorder.js';
import { UpstreamOAuthClient } from './upstream/oauth-client.js';
import { UpstreamTokenManager } from './upstream/token-manager.js';
import { GrantRevoker } from './lifecycle/grant-revoker.js';
import { createForwarder } from './proxy/forwarder.js';
import { buildResourceIndex } from './oauth/resource.js';
import { createApp } from './app.js';

export const MASTER_KEY_HELP =
  'KEYHOLE_MASTER_KEY is not set. It must hold 32 random bytes in base64url; make one with:\n' +
  `  node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`;

export class MissingMasterKeyError extends Error {
  constructor() {
    super(MASTER_KEY_HELP);
    this.name = 'MissingMasterKeyError';
  }
}

export interface KeyholeOptions {
  config: KeyholeConfig;
  /** Defaults to KEYHOLE_MASTER_KEY. */
  keyring?: Keyring;
  /** Defaults to the SQLite file of the config. */
  store?: Store;
  log?: LogSink;
  clock?: () => number;
}

export interface Keyhole {
  app: ReturnType<typeof createApp>;
  store: Store;
  events: EventRecorder;
  revoker: GrantRevoker;
  tokenManager: UpstreamTokenManager;
  listen(): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
}

export function keyringFromEnv(env: NodeJS.ProcessEnv = process.env): Keyring {
  const key = env.KEYHOLE_MASTER_KEY;
  if (!key) throw new MissingMasterKeyError();
  return keyringFromMasterKey(key);
}

export function createKeyhole(opts: KeyholeOptions): Keyhole {
  const { config } = opts;
  const clock = opts.clock ?? (() => Math.floor(Date.now() / 1000));
  const keyring = opts.keyring ?? keyringFromEnv();
  const store = opts.store ?? openSqliteStore(config.storage.sqlite);
  const cipher = new VaultCipher(keyring);
  const events = new EventRecorder(store, opts.log, clock);
  const redirectUri = `${config.publicUrl}/oauth/callback`;
  const upstreamClients = new Map(Object.entries(config.servers).map(([name, s]) => [name, new UpstreamOAuthClient(name, s.oauth, redirectUri)]));
  const revoker = new GrantRevoker({ store, cipher, events, upstreamClients, clock });
  const tokenManager = new UpstreamTokenManager({ store, cipher, events, revoker, clients: upstreamClients, skewSeconds: config.tokens.upstreamRefreshSkewSeconds, clock });
  const forwarder = createForwarder({ maxBodyBytes: config.maxBodyBytes });
  // A revoked grant's open SSE streams close at once (the very next request gets 401 from the bearer check).
  revoker.onGrantEnded((grantId) => void forwarder.closeStreams(grantId));
  const currentKey = keyring.keys.get(keyring.current)!;
  const csrfKey = Buffer.from(hkdfSync('sha256', currentKey, Buffer.alloc(0), 'keyhole consent csrf v1', 32));
  const app = createApp({
    config, store, cipher, events, upstreamClients, tokenManager, revoker, forwarder, clock, csrfKey,
    resources: buildResourceIndex(config.publicUrl, Object.keys(config.servers)),
    logError: (e) => (opts.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(JSON.stringify({ level: 'error', msg: 'keyhole.unhandled', error: (e as Error)?.name ?? 'Error' })),
  });

  let server: ServerType | undefined;
  return {
    app, store, events, revoker, tokenManager,
    listen() {
      return new Promise((resolve, reject) => {
        const s = serve({ fetch: app.fetch, hostname: config.listen.host, port: config.listen.port }, (info: AddressInfo) => {
          resolve({ url: `http://${info.address.includes(':') ? `[${info.address}]` : info.address}:${info.port}`, port: info.port });
        });
        s.once('error', reject);
        server = s;
      });
    },
    async close() {
      forwarder.close();
      if (server) {
        const s = server as ServerType & { closeAllConnections?: () => void };
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections?.();
        });
      }
      store.close();
    },
  };
}
