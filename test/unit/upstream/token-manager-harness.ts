/**
 * A token manager on a real store and vault (SQLite `:memory:`), with a fake upstream OAuth client that counts its
 * calls, and the real GrantRevoker wired in exactly as keyhole.ts does.
 */
import { randomBytes } from 'node:crypto';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../../src/store/types.js';
import { VaultCipher, keyringFromMasterKey } from '../../../src/store/crypto/vault-cipher.js';
import { UpstreamVault } from '../../../src/vault/upstream-vault.js';
import { EventRecorder } from '../../../src/events/recorder.js';
import { GrantRevoker } from '../../../src/grants/grant-revoker.js';
import type { UpstreamOAuthClient, UpstreamTokens } from '../../../src/upstream/oauth-client.js';
import { UpstreamTokenManager, type GrantEndReason, type UpstreamTokenManagerDeps } from '../../../src/upstream/token-manager.js';
import type { CredentialGrant } from '../../../src/upstream/credential-source.js';
import { makeGrant } from '../store/store-contract.js';

export const T0 = 1_700_000_000;

/**
 * The upstream authorization server as the token manager sees it. Each refresh issues `at-<n>` / `rt-<n>` with
 * `expiresIn`; `fail` makes the next refreshes throw; `gate` holds every refresh until it resolves.
 */
export class FakeUpstreamClient implements Pick<UpstreamOAuthClient, 'refresh' | 'revoke'> {
  refreshes: string[] = [];
  revoked: string[] = [];
  expiresIn: number | undefined = 15;
  fail: Error | undefined;
  gate: Promise<void> | undefined;
  /** Runs when a refresh has produced its tokens, just before they are returned. */
  onIssue: ((tokens: UpstreamTokens) => void) | undefined;

  async refresh(refreshToken: string): Promise<UpstreamTokens> {
    this.refreshes.push(refreshToken);
    const n = this.refreshes.length;
    await this.gate;
    if (this.fail) throw this.fail;
    const tokens = { accessToken: `at-${n}`, refreshToken: `rt-${n}`, expiresIn: this.expiresIn, scopes: undefined };
    this.onIssue?.(tokens);
    return tokens;
  }

  async revoke(token: string): Promise<'revoked'> {
    this.revoked.push(token);
    return 'revoked';
  }
}

export interface Harness {
  store: Store;
  cipher: VaultCipher;
  vault: UpstreamVault;
  upstream: FakeUpstreamClient;
  /** The GrantRevoker every manager of this harness listens to (revocation as keyhole does it). */
  revoker: GrantRevoker;
  /** Every endGrant call the token manager made. */
  ended: Array<[string, GrantEndReason, string]>;
  grant: CredentialGrant;
  now: { t: number };
  /** A token manager on this store and vault (several: several keyhole instances on one database). */
  manager(over?: Partial<UpstreamTokenManagerDeps>): UpstreamTokenManager;
  /** Stores the grant's first tokens (`at-0` / `rt-0`) at the current time, as the callback does. */
  seed(m: UpstreamTokenManager, expiresIn: number | undefined, withRefreshToken?: boolean): Promise<void>;
  close(): Promise<void>;
}

/** @param given the store to use (another engine, another instance's view); default a fresh SQLite `:memory:`. */
export async function createHarness(given?: Store): Promise<Harness> {
  const now = { t: T0 };
  const clock = () => now.t;
  const store: Store = given ?? openSqliteStore(':memory:');
  const cipher = new VaultCipher(keyringFromMasterKey(randomBytes(32).toString('base64url')));
  const vault = new UpstreamVault({ store, cipher, backend: 'sqlite', keychain: undefined });
  const events = new EventRecorder(store, () => undefined, clock);
  const upstream = new FakeUpstreamClient();
  const clients = new Map([['demo', upstream]]);
  const revoker = new GrantRevoker({ store, vault, events, upstreamClients: clients, clock });
  const ended: Harness['ended'] = [];
  const record = makeGrant({ server: 'demo' });
  await store.grants.create(record);
  const grant = { id: record.id, server: record.server, clientId: record.clientId, subject: record.subject };

  return {
    store, cipher, vault, upstream, ended, grant, now, revoker,
    manager(over = {}) {
      const m = new UpstreamTokenManager({
        store, vault, events, clients, clock,
        endGrant: (grantId, reason, actor) => {
          ended.push([grantId, reason, actor]);
          return revoker.revoke(grantId, reason, actor);
        },
        ...over,
      });
      revoker.onGrantEnded((id) => m.forget(id));
      return m;
    },
    seed(m, expiresIn, withRefreshToken = true) {
      return m.persist(grant.id, { accessToken: 'at-0', refreshToken: withRefreshToken ? 'rt-0' : undefined, expiresIn, scopes: ['mcp:tools'] }, undefined, ['mcp:tools']);
    },
    close: async () => await store.close(),
  };
}
