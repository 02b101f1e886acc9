/**
 * The people service (issue 13): the one owner of a person's rules. Surfaces call into it:
 * - `signIn`: after the org IdP's code exchange (src/org-sign-in/): create, update or link the person, refuse an
 *   offboarded one or one outside `identity.allowedGroups`, keep the IdP refresh token sealed, record the event;
 * - `refuse`: record a refusal decided elsewhere (a server's `access.groups`, the scopes' `groups`) before any
 *   upstream redirect;
 * - `offboard(personId, { actor, via })`: in one step, the person is blocked (status `offboarded`: no new sign-in,
 *   no new grant), their sessions and IdP refresh token are deleted and EVERY grant of theirs is revoked through the
 *   grant service (keyhole tokens, sealed upstream tokens, RFC 7009 at each upstream, open streams), then
 *   `person.offboarded` is recorded with who did it and which way (admin | scim | idp);
 * - `reinstate(personId, actor)`: sign-ins allowed again (grants stay revoked).
 * Events carry the person id (`personId`), never an IdP token.
 */
import type { IdentityConfig } from '../config/identity-schema.js';
import type { EventRecorder } from '../events/recorder.js';
import type { VaultCipher } from '../store/crypto/vault-cipher.js';
import type { GrantRecord, OffboardVia, PersonFilter, PersonRecord, SignInClaims, Store } from '../store/types.js';
import { randomId } from '../store/crypto/hash.js';
import { personIdpRefreshSealContext } from '../vault/seal-contexts.js';
import { mayUseKeyhole, type AccessRefusal } from './group-policy.js';

/** The grant-revocation reason of grants ended by an offboarding. */
export const OFFBOARDED_REASON = 'person_offboarded';

export type SignInOutcome =
  | { ok: true; person: PersonRecord }
  | { ok: false; reason: Extract<AccessRefusal, 'offboarded' | 'not_in_allowed_groups'>; person: PersonRecord };

export interface OffboardResult {
  /** False when the person is unknown (nothing was done). */
  found: boolean;
  /** True when this call moved the person to `offboarded` (false: they already were; grants are swept anyway). */
  changed: boolean;
  /** Grants this call revoked. */
  revokedGrantIds: string[];
}

export interface PeopleServiceDeps {
  store: Store;
  events: Pick<EventRecorder, 'record'>;
  identity: Pick<IdentityConfig, 'allowedGroups'>;
  /** Seals the IdP refresh token (vault, ctx `person-idp-refresh:<person id>`). */
  cipher: Pick<VaultCipher, 'seal' | 'open'>;
  /** Ends one grant everywhere: GrantService.revoke. */
  revokeGrant: (grantId: string, reason: string, actor: string) => Promise<boolean>;
  clock: () => number;
}

export class PeopleService {
  constructor(private readonly deps: PeopleServiceDeps) {}

  /**
   * A person signed in at the IdP: upserted (linked to a SCIM-provisioned row when one matches), then refused when
   * offboarded or outside `allowedGroups`, else their IdP refresh token (if any) is sealed and kept and
   * `person.signed_in` recorded. A refused sign-in keeps no IdP token.
   */
  async signIn(claims: SignInClaims, idpRefreshToken?: string): Promise<SignInOutcome> {
    const { store, events, identity, clock } = this.deps;
    const person = await store.people.upsertAtSignIn(claims, randomId('u'), clock());
    if (person.status === 'offboarded') {
      await this.refuse(person, 'offboarded');
      return { ok: false, reason: 'offboarded', person };
    }
    if (!mayUseKeyhole(identity, person.groups)) {
      await this.refuse(person, 'not_in_allowed_groups');
      return { ok: false, reason: 'not_in_allowed_groups', person };
    }
    if (idpRefreshToken) await this.keepIdpRefreshToken(person.id, idpRefreshToken);
    await events.record({ type: 'person.signed_in', personId: person.id, detail: { email: person.email, groups: person.groups } });
    return { ok: true, person };
  }

  /** Records `person.refused` (outcome failure) with the reason and, when known, the server and client. */
  async refuse(person: Pick<PersonRecord, 'id' | 'email' | 'groups'>, reason: AccessRefusal, where: { server?: string; clientId?: string; scopes?: string[] } = {}): Promise<void> {
    await this.deps.events.record({
      type: 'person.refused', outcome: 'failure', personId: person.id, server: where.server ?? null, clientId: where.clientId ?? null,
      detail: { reason, email: person.email, groups: person.groups, ...(where.scopes ? { scopes: where.scopes } : {}) },
    });
  }

  get(personId: string): Promise<PersonRecord | undefined> {
    return this.deps.store.people.get(personId);
  }

  list(filter: PersonFilter): Promise<PersonRecord[]> {
    return this.deps.store.people.list(filter);
  }

  /** Every grant of the person, active and revoked, newest first. */
  grantsOf(personId: string): Promise<GrantRecord[]> {
    return this.deps.store.grants.listByPerson(personId);
  }

  /**
   * Offboards the person in one step (see the file comment). The status changes first, so a sign-in or an
   * authorization completing meanwhile is refused (complete-authorization checks the person inside its transaction);
   * then every active grant is revoked. Idempotent: a second call revokes whatever is still active and records nothing.
   */
  async offboard(personId: string, by: { actor: string; via: OffboardVia }): Promise<OffboardResult> {
    const { store, events, clock, revokeGrant } = this.deps;
    const person = await store.people.get(personId);
    if (!person) return { found: false, changed: false, revokedGrantIds: [] };
    const changed = await store.people.setStatus(personId, { status: 'offboarded', at: clock(), by: by.actor, via: by.via });
    await store.personSessions.deleteByPerson(personId);
    await this.forgetIdpRefreshToken(personId);
    const revokedGrantIds: string[] = [];
    for (const grant of await store.grants.listByPerson(personId)) {
      if (grant.status !== 'active') continue;
      if (await revokeGrant(grant.id, OFFBOARDED_REASON, by.actor)) revokedGrantIds.push(grant.id);
    }
    if (changed) {
      await events.record({ type: 'person.offboarded', personId, detail: { via: by.via, actor: by.actor, email: person.email, revoked_grants: revokedGrantIds } });
    }
    return { found: true, changed, revokedGrantIds };
  }

  /** Allows the person to sign in again; false when unknown or not offboarded. Their revoked grants stay revoked. */
  async reinstate(personId: string, actor: string): Promise<boolean> {
    const { store, events, clock } = this.deps;
    const changed = await store.people.setStatus(personId, { status: 'active', at: clock(), by: actor });
    if (changed) await events.record({ type: 'person.reinstated', personId, detail: { actor } });
    return changed;
  }

  /** The person's IdP refresh token (for revalidation), opened from the vault; undefined when none is kept. */
  async idpRefreshToken(personId: string): Promise<string | undefined> {
    const ctx = personIdpRefreshSealContext(personId);
    const sealed = await this.deps.store.sealedSecrets.find(ctx);
    return sealed ? this.deps.cipher.open(sealed, ctx) : undefined;
  }

  /** Seals and keeps (replacing) the person's IdP refresh token. */
  async keepIdpRefreshToken(personId: string, refreshToken: string): Promise<void> {
    const ctx = personIdpRefreshSealContext(personId);
    await this.deps.store.sealedSecrets.put(ctx, await this.deps.cipher.seal(refreshToken, ctx), this.deps.clock());
  }

  async forgetIdpRefreshToken(personId: string): Promise<void> {
    await this.deps.store.sealedSecrets.delete(personIdpRefreshSealContext(personId));
  }
}
