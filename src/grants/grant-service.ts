/**
 * The grant service: the one owner of a grant's rules (issue 10 §4). Route handlers (`/oauth/callback`, `/token`,
 * `/revoke`), the admin actions and the upstream token manager call into it:
 * - `completeAuthorization`: after the upstream code exchange, create or widen the grant, store the sealed upstream
 *   tokens and issue keyhole's code, in one transaction (./complete-authorization.ts);
 * - `redeemCode`: grant_type=authorization_code, single use, a replay revokes its family (./redeem-code.ts);
 * - `rotateRefreshToken`: grant_type=refresh_token, grace window and replay detection (./rotate-refresh-token.ts);
 * - `revoke` / `onGrantEnded`: end a grant everywhere, whoever asks (./grant-revoker.ts).
 */
import type { KeyholeConfig } from '../config/schema.js';
import type { Store } from '../store/types.js';
import type { EventRecorder } from '../events/recorder.js';
import type { UpstreamVault } from '../vault/upstream-vault.js';
import { completeAuthorization, type AuthorizationToComplete, type CompletedAuthorization } from './complete-authorization.js';
import { rotateRefreshToken, type RefreshRequest } from './rotate-refresh-token.js';
import { redeemCode, type CodeRedemption } from './redeem-code.js';
import type { TokenResponse } from './issue-tokens.js';
import type { GrantEndedListener, GrantRevoker } from './grant-revoker.js';
import type { PersonCheck } from './person-check.js';

export interface GrantServiceDeps {
  store: Store;
  vault: Pick<UpstreamVault, 'prepare'>;
  events: Pick<EventRecorder, 'record'>;
  config: Pick<KeyholeConfig, 'tokens'>;
  clock: () => number;
  /** Ends grants (its listeners drop caches and close streams). */
  revoker: GrantRevoker;
  /** Caches of upstream credentials to drop when a grant's upstream tokens are replaced (the token manager). */
  credentialCache?: { forget(grantId: string): void };
  /** Re-checks a grant's person at the organization's IdP before a refresh (./person-check.ts); absent: none. */
  personCheck?: PersonCheck;
}

export class GrantService {
  constructor(private readonly deps: GrantServiceDeps) {}

  /** Create or widen the grant, store the sealed upstream tokens, issue keyhole's code: one transaction. */
  async completeAuthorization(a: AuthorizationToComplete): Promise<CompletedAuthorization> {
    const done = await completeAuthorization(this.deps, a);
    this.deps.credentialCache?.forget(done.grant.id); // a step-up replaced the upstream access token
    return done;
  }

  /** grant_type=authorization_code: a token pair, or invalid_grant (a replayed code revokes what it issued). */
  redeemCode(r: CodeRedemption): Promise<TokenResponse> {
    return redeemCode(this.deps, r);
  }

  /** grant_type=refresh_token: a new pair, or invalid_grant (a replay beyond the grace window revokes the family). */
  rotateRefreshToken(r: RefreshRequest): Promise<TokenResponse> {
    return rotateRefreshToken(this.deps, r);
  }

  /** Ends the grant everywhere; false when it was unknown or already revoked. Never throws for upstream failures. */
  revoke(grantId: string, reason: string, actor: string): Promise<boolean> {
    return this.deps.revoker.revoke(grantId, reason, actor);
  }

  onGrantEnded(listener: GrantEndedListener): void {
    this.deps.revoker.onGrantEnded(listener);
  }
}
