/** What the authorization-server endpoints share. Built once in app.ts. */
import type { KeyholeConfig } from '../config/schema.js';
import type { Store } from '../store/types.js';
import type { VaultCipher } from '../store/crypto/vault-cipher.js';
import type { EventRecorder } from '../events/recorder.js';
import type { UpstreamOAuthClient } from '../upstream/oauth-client.js';
import type { UpstreamTokenManager } from '../upstream/token-manager.js';
import type { GrantRevoker } from '../grants/grant-revoker.js';
import type { GrantService } from '../grants/grant-service.js';
import type { ResourceIndex } from '../oauth/resource.js';
import type { ClientIdMetadataResolver } from './client-id-metadata.js';
import type { PeopleService } from '../people/people-service.js';
import type { PersonSessions } from '../people/person-session.js';
import type { OrgIdpClient } from '../people/org-idp-client.js';

/** Organization sign-in (issue 13), present when the config has `identity`. */
export interface PeopleDeps {
  service: PeopleService;
  /** The person-session cookie: who is signed in in this browser. */
  sessions: PersonSessions;
  /** The organization IdP's relying-party client (sign-in; `refresh`/`userinfo` to re-check a person). */
  idp: OrgIdpClient;
}

export interface AuthorizationServerDeps {
  config: KeyholeConfig;
  store: Store;
  cipher: VaultCipher;
  events: EventRecorder;
  upstreamClients: ReadonlyMap<string, UpstreamOAuthClient>;
  tokenManager: UpstreamTokenManager;
  revoker: GrantRevoker;
  /** The grant rules: complete an authorization, rotate a refresh token, revoke (src/grants/grant-service.ts). */
  grants: GrantService;
  resources: ResourceIndex;
  /** HMAC key for consent CSRF tokens (derived from the master key). */
  csrfKey: Buffer;
  clock: () => number;
  /** Resolves URL client ids (client ID metadata documents). Absent: URL client ids are looked up like any other. */
  clientIdMetadata?: ClientIdMetadataResolver;
  /** With `identity`: /authorize signs the person in first and applies the group policy (src/people). */
  people?: PeopleDeps;
}
