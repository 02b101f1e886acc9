/** What the organization sign-in surface needs (issue 13). Built in src/keyhole.ts when the config has `identity`. */
import type { KeyholeConfig } from '../config/schema.js';
import type { IdentityConfig } from '../config/identity-schema.js';
import type { VaultCipher } from '../store/crypto/vault-cipher.js';
import type { EventRecorder } from '../events/recorder.js';
import type { PeopleService } from '../people/people-service.js';
import type { PersonSessions } from '../people/person-session.js';
import type { OrgIdpClient } from '../people/org-idp-client.js';

export interface OrgSignInDeps {
  config: Pick<KeyholeConfig, 'publicUrl'> & { identity: IdentityConfig };
  /** Seals the sign-in transaction (state, nonce, PKCE verifier, return path) into its cookie. */
  cipher: Pick<VaultCipher, 'seal' | 'open'>;
  events: Pick<EventRecorder, 'record'>;
  people: PeopleService;
  sessions: PersonSessions;
  idp: Pick<OrgIdpClient, 'authorizationRequest' | 'exchangeCode'>;
  clock: () => number;
}
