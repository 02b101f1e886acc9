/** What the /account surface needs (issue 13 §6). Built in src/app.ts; `sessions` only with `identity`. */
import type { KeyholeConfig } from '../config/schema.js';
import type { Store } from '../store/types.js';
import type { EventRecorder } from '../events/recorder.js';
import type { GrantService } from '../grants/grant-service.js';
import type { PersonSessions } from '../people/person-session.js';

export interface AccountDeps {
  config: Pick<KeyholeConfig, 'publicUrl' | 'servers' | 'identity'>;
  store: Store;
  events: Pick<EventRecorder, 'record'>;
  /** Ends a grant everywhere: the same path as an admin's (GrantService.revoke → GrantRevoker). */
  grants: Pick<GrantService, 'revoke'>;
  /** Keys the CSRF tokens of the account forms (the same on every instance). */
  csrfKey: Buffer;
  /** With `identity`: who is signed in in this browser. Absent: /account says the admin manages access. */
  people?: { sessions: Pick<PersonSessions, 'read' | 'end'> } | undefined;
}
