/**
 * Completing an authorization: what `/oauth/callback` does once the upstream code is exchanged.
 * - The step-up grant (same client, server and upstream subject, still active) or the active grant for
 *   (client, server, upstream subject) is widened (same grant id); otherwise a grant is created.
 * - The upstream tokens are stored sealed, keyhole's single-use code (≤ 60 s, stored hashed) is issued, and the events
 *   `grant.created`/`grant.updated`, `upstream.authorized`, `code.issued` are recorded.
 * All of it is ONE store transaction: a failure anywhere leaves no grant, no credential, no code and no event
 * (a grant without credentials cannot exist). The secrets are sealed before the transaction opens (async crypto);
 * with the keychain vault the refresh token's entry is written before it and put back when the transaction fails.
 * A grant revoked between the lookup and the transaction makes the whole step start again (at most 3 times).
 * With `identity` on, the grant records its person (id + sign-in snapshot) and is only ever widened for the same person.
 */
import type { GrantPerson, GrantRecord, Store, ClientAuthorizationRequest, UpstreamCredential } from '../store/types.js';
import type { EventRecorder } from '../events/recorder.js';
import type { PreparedSecrets, UpstreamVault } from '../vault/upstream-vault.js';
import type { UpstreamAuthorization } from '../upstream/oauth-client.js';
import { upstreamSecrets } from '../upstream/token-manager.js';
import { fingerprint, randomId, randomToken, sha256Hex } from '../store/crypto/hash.js';
import { union } from '../oauth/scope.js';

export const CODE_TTL_SECONDS = 60;

export interface AuthorizationToComplete {
  /** The MCP client's authorization request (from the pending authorization). */
  request: Omit<ClientAuthorizationRequest, 'state'>;
  /** The grant a step-up widens, if any. */
  stepUpGrantId: string | null;
  /** The upstream's answer to the code exchange. */
  upstream: UpstreamAuthorization;
  /** Upstream scopes asked for (stored when the upstream does not report its own). */
  upstreamScopes: string[];
  /** The signed-in person (issue 13): recorded on a new grant; null or absent without `identity`. */
  person?: GrantPerson | null;
}

export interface CompletedAuthorization {
  grant: GrantRecord;
  created: boolean;
  /** keyhole's single-use authorization code, for the client's redirect. */
  code: string;
}

export interface CompleteAuthorizationDeps {
  store: Store;
  vault: Pick<UpstreamVault, 'prepare'>;
  events: Pick<EventRecorder, 'record'>;
  clock: () => number;
}

/** The person is offboarded (or unknown): no grant is completed for them (checked inside the grant's transaction). */
export class PersonNotActiveError extends Error {
  override name = 'PersonNotActiveError';
}

/** Thrown inside the transaction when the grant chosen before it has ended meanwhile: start again. */
class GrantChangedError extends Error {}

export async function completeAuthorization(deps: CompleteAuthorizationDeps, a: AuthorizationToComplete): Promise<CompletedAuthorization> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await attemptOnce(deps, a);
    } catch (e) {
      if (!(e instanceof GrantChangedError) || attempt >= 3) throw e;
    }
  }
}

async function attemptOnce(deps: CompleteAuthorizationDeps, a: AuthorizationToComplete): Promise<CompletedAuthorization> {
  const { store, vault, events, clock } = deps;
  const { request: req, upstream: auth } = a;
  const now = clock();
  const existing = await findGrant(store, a);
  const grantId = existing?.id ?? randomId('g');
  const previous: UpstreamCredential | undefined = existing ? await store.upstreamCredentials.find(existing.id) : undefined;
  // Sealed (and the keychain entry written) before the transaction: the sealing context names the grant id.
  const secrets: PreparedSecrets = await vault.prepare(grantId, upstreamSecrets(auth, previous, a.upstreamScopes, now), previous);
  const code = randomToken('kh_code_');
  const familyId = randomId('f');
  const person = a.person ?? null;
  const base = { clientId: req.clientId, server: req.server, subject: auth.subject, personId: person?.id ?? null };
  let result: CompletedAuthorization;
  try {
    result = await store.transaction(async (tx) => {
      // Holds the person row (PostgreSQL FOR SHARE) so that an offboarding waits for this grant, then revokes it.
      if (person && !(await tx.people.lockActive(person.id))) throw new PersonNotActiveError();
      let grant: GrantRecord;
      if (existing) {
        const current = await tx.grants.find(existing.id);
        if (current?.status !== 'active') throw new GrantChangedError();
        const scopes = union(current.scopes, req.scopes);
        await tx.grants.updateScopes(current.id, scopes);
        await events.record({ type: 'grant.updated', grantId, ...base, detail: { scopes, added: req.scopes.filter((s) => !current.scopes.includes(s)) } }, tx);
        grant = { ...current, scopes };
      } else {
        grant = {
          id: grantId, clientId: req.clientId, server: req.server, subject: auth.subject, subjectName: auth.subjectName,
          scopes: req.scopes, status: 'active', statusReason: null, createdAt: now, lastUsedAt: null, revokedAt: null, person,
        };
        await tx.grants.create(grant);
        await events.record({ type: 'grant.created', grantId, ...base, detail: { scopes: grant.scopes } }, tx);
      }
      await tx.upstreamCredentials.put(secrets.row);
      await events.record({
        type: 'upstream.authorized', grantId, ...base,
        detail: { access_fp: fingerprint(auth.accessToken), refresh_fp: auth.refreshToken ? fingerprint(auth.refreshToken) : null, expires_in: auth.expiresIn ?? null, upstream_scopes: auth.scopes ?? a.upstreamScopes },
      }, tx);
      await tx.tokens.createCode({
        hash: sha256Hex(code), grantId, familyId, clientId: req.clientId, redirectUri: req.redirectUri, codeChallenge: req.codeChallenge,
        resource: req.resource, scopes: req.scopes, expiresAt: now + CODE_TTL_SECONDS, usedAt: null,
      });
      await events.record({ type: 'code.issued', grantId, ...base, detail: { code_fp: fingerprint(code), family_id: familyId, expires_in: CODE_TTL_SECONDS } }, tx);
      return { grant, created: !existing, code };
    });
  } catch (e) {
    await secrets.discard();
    throw e;
  }
  await secrets.committed();
  return result;
}

/**
 * The same client, server, upstream account and person keep one grant: the step-up grant when it still matches, else
 * the active one.
 */
async function findGrant(store: Store, a: AuthorizationToComplete): Promise<GrantRecord | undefined> {
  const { request: req, upstream: auth } = a;
  const personId = a.person?.id ?? null;
  const stepUp = a.stepUpGrantId ? await store.grants.find(a.stepUpGrantId) : undefined;
  if (stepUp?.status === 'active' && stepUp.subject === auth.subject && stepUp.clientId === req.clientId && stepUp.server === req.server
    && (stepUp.person?.id ?? null) === personId) return stepUp;
  return await store.grants.findActive(req.clientId, req.server, auth.subject, personId);
}
