/**
 * A GrantService on a real store and vault (SQLite `:memory:`), with an in-memory keychain, a fake upstream that
 * records RFC 7009 revocations, and a store wrapper that can fail one repository call inside transactions.
 */
import { randomBytes } from 'node:crypto';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { VaultCipher, keyringFromMasterKey } from '../../../src/store/crypto/vault-cipher.js';
import { UpstreamVault, type VaultBackend } from '../../../src/vault/upstream-vault.js';
import type { SecretStore } from '../../../src/vault/secret-store.js';
import { EventRecorder } from '../../../src/events/recorder.js';
import { GrantRevoker } from '../../../src/grants/grant-revoker.js';
import { GrantService } from '../../../src/grants/grant-service.js';
import type { AuthorizationToComplete } from '../../../src/grants/complete-authorization.js';
import type { EventRecord, Store } from '../../../src/store/types.js';
import type { UpstreamAuthorization } from '../../../src/upstream/oauth-client.js';

export const T0 = 1_700_000_000;
export const RESOURCE = 'http://127.0.0.1:8787/mcp/demo';

/** The OS keychain, in memory. */
export class MemorySecretStore implements SecretStore {
  readonly service = 'mcp-keyhole/test';
  readonly entries = new Map<string, string>();
  async get(account: string): Promise<string | null> { return this.entries.get(account) ?? null; }
  async set(account: string, secret: string): Promise<void> { this.entries.set(account, secret); }
  async delete(account: string): Promise<boolean> { return this.entries.delete(account); }
  async accounts(): Promise<string[]> { return [...this.entries.keys()]; }
  async probe(): Promise<void> {}
}

/** Repository calls made through transaction-scoped stores; `failOn` makes the next matching call throw. */
export interface TxFault {
  failOn: { repo: keyof Store; method: string; when?: (args: unknown[]) => boolean } | undefined;
  calls: Array<{ repo: string; method: string; args: unknown[] }>;
}

function faulty(store: Store, fault: TxFault): Store {
  const wrapTx = (tx: Store): Store => new Proxy(tx, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (key === 'transaction') return <T>(fn: (t: Store) => Promise<T>) => target.transaction((t) => fn(wrapTx(t)));
      if (typeof value !== 'object' || value === null) return typeof value === 'function' ? value.bind(target) : value;
      return new Proxy(value, {
        get(repo, method) {
          const f = Reflect.get(repo, method) as unknown;
          if (typeof f !== 'function') return f;
          return async (...args: unknown[]) => {
            fault.calls.push({ repo: String(key), method: String(method), args });
            const rule = fault.failOn;
            if (rule && rule.repo === key && rule.method === method && (rule.when?.(args) ?? true)) {
              fault.failOn = undefined;
              throw new Error(`injected failure: ${String(key)}.${String(method)}`);
            }
            return (f as (...a: unknown[]) => Promise<unknown>).apply(repo, args);
          };
        },
      });
    },
  });
  return new Proxy(store, {
    get(target, key) {
      if (key === 'transaction') return <T>(fn: (t: Store) => Promise<T>) => target.transaction((t) => fn(wrapTx(t)));
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export interface GrantHarness {
  raw: SqliteStore;
  store: Store;
  vault: UpstreamVault;
  keychain: MemorySecretStore;
  service: GrantService;
  fault: TxFault;
  now: { t: number };
  /** RFC 7009 revocations received by the upstream. */
  upstreamRevoked: string[];
  /** Grants the service's listeners were told about. */
  ended: string[];
  /** Grants whose upstream credential cache was dropped. */
  forgotten: string[];
  events(): Promise<EventRecord[]>;
  close(): Promise<void>;
}

export async function createGrantHarness(backend: VaultBackend = 'sqlite'): Promise<GrantHarness> {
  const now = { t: T0 };
  const clock = () => now.t;
  const raw = openSqliteStore(':memory:');
  const fault: TxFault = { failOn: undefined, calls: [] };
  const store = faulty(raw, fault);
  const keychain = new MemorySecretStore();
  const cipher = new VaultCipher(keyringFromMasterKey(randomBytes(32).toString('base64url')));
  const vault = new UpstreamVault({ store, cipher, backend, keychain });
  const events = new EventRecorder(store, () => undefined, clock);
  const upstreamRevoked: string[] = [];
  const upstreamClients = new Map([['demo', { revoke: async (token: string) => { upstreamRevoked.push(token); return 'revoked' as const; } }]]);
  const revoker = new GrantRevoker({ store, vault, events, upstreamClients, clock });
  const forgotten: string[] = [];
  const config = { tokens: { accessTokenTtlSeconds: 900, refreshTokenTtlSeconds: 86_400, refreshGraceSeconds: 30, upstreamRefreshSkewSeconds: undefined } };
  const service = new GrantService({ store, vault, events, config, clock, revoker, credentialCache: { forget: (id) => forgotten.push(id) } });
  const ended: string[] = [];
  service.onGrantEnded((id) => ended.push(id));
  return {
    raw, store, vault, keychain, service, fault, now, upstreamRevoked, ended, forgotten,
    events: () => store.events.scan({}, 0, 500),
    close: () => raw.close(),
  };
}

export function upstream(over: Partial<UpstreamAuthorization> = {}): UpstreamAuthorization {
  return { accessToken: 'up-at-1', refreshToken: 'up-rt-1', expiresIn: 3600, scopes: undefined, subject: 'user-1', subjectName: 'User One', ...over };
}

export function authorization(over: Partial<AuthorizationToComplete> = {}): AuthorizationToComplete {
  return {
    request: {
      clientId: 'c_client', server: 'demo', redirectUri: 'http://127.0.0.1:33418/callback',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', resource: RESOURCE, scopes: ['mcp:tools'],
    },
    stepUpGrantId: null,
    upstream: upstream(),
    upstreamScopes: ['openid', 'offline_access', 'mcp:tools'],
    ...over,
  };
}
