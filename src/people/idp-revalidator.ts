/**
 * IdP revalidation (issue 13 §3, "the IdP says no"): the grant layer's PersonCheck (src/grants/person-check.ts),
 * asked when a person's client refreshes its keyhole token. At most every `identity.revalidateSeconds` per person,
 * keyhole refreshes the person's IdP session with the IdP refresh token it keeps sealed in the vault
 * (PeopleService.idpRefreshToken; the OpenID Connect refresh request, OIDC Core §12):
 * - the IdP answers `invalid_grant` (session revoked, user disabled or deleted), a refreshed ID token names another
 *   `sub`, or the refreshed groups are outside `identity.allowedGroups`: the person is offboarded exactly like the admin
 *   action (`via: 'idp'`, actor `idp`) and the refresh answers `invalid_grant`;
 * - the IdP accepts: the person's email, name and groups are updated from the answer, a rotated IdP refresh token is
 *   sealed in place of the old one, and the person is not asked about again for `revalidateSeconds`.
 *
 * The IdP cannot be reached (network, timeout, 5xx, a malformed answer): **fail closed after a bounded grace**.
 * While the last successful check (or, after a restart, the person's latest sign-in) is younger than
 * `revalidateSeconds + graceSeconds` (grace default: `revalidateSeconds`), the refresh goes on, so a short IdP outage
 * does not cut everybody off; after that the refresh answers 503 `temporarily_unavailable` and the grant is kept (the
 * person is not offboarded for an outage: nothing said no). Each failure is recorded (`person.revalidation_failed`).
 *
 * A person without a kept IdP refresh token (the IdP issued none: add `offline_access` to `identity.scopes` where
 * the IdP needs it) cannot be re-checked this way: the refresh goes on, and SCIM or the admin remain the way to end
 * their access. Checks are remembered in memory per instance; concurrent refreshes of one person share one check.
 */
import type { IdentityConfig } from '../config/identity-schema.js';
import type { EventRecorder } from '../events/recorder.js';
import type { PersonCheck, PersonCheckOutcome } from '../grants/person-check.js';
import type { Store } from '../store/types.js';
import { mayUseKeyhole } from './group-policy.js';
import { OrgIdpRefusedError, OrgIdpUnavailableError, OrgSignInInvalidError, type OrgIdpClient } from './org-idp-client.js';
import type { PeopleService } from './people-service.js';

/** The actor recorded for an offboarding the IdP decided. */
export const IDP_ACTOR = 'idp';

export interface IdpRevalidatorDeps {
  store: Pick<Store, 'people'>;
  people: Pick<PeopleService, 'offboard' | 'idpRefreshToken' | 'keepIdpRefreshToken'>;
  idp: Pick<OrgIdpClient, 'refresh'>;
  identity: Pick<IdentityConfig, 'allowedGroups' | 'revalidateSeconds'>;
  events: Pick<EventRecorder, 'record'>;
  clock: () => number;
  /** How long past `revalidateSeconds` an unreachable IdP is tolerated; default `revalidateSeconds`. */
  graceSeconds?: number;
}

export class IdpRevalidator implements PersonCheck {
  /** personId → when the IdP last confirmed the person (epoch seconds). */
  readonly #confirmedAt = new Map<string, number>();
  readonly #inFlight = new Map<string, Promise<PersonCheckOutcome>>();

  constructor(private readonly deps: IdpRevalidatorDeps) {}

  beforeRefresh(personId: string): Promise<PersonCheckOutcome> {
    let check = this.#inFlight.get(personId);
    if (!check) {
      check = this.#check(personId).finally(() => this.#inFlight.delete(personId));
      this.#inFlight.set(personId, check);
    }
    return check;
  }

  async #check(personId: string): Promise<PersonCheckOutcome> {
    const { store, people, idp, identity, events, clock } = this.deps;
    const now = clock();
    const person = await store.people.get(personId);
    if (!person || person.status === 'offboarded') return 'refused';
    if (person.iss === null || person.sub === null) return 'ok'; // never signed in through the IdP: nothing to re-check
    // A sign-in is a check too, and a successful re-check moves lastSeenAt (upsertAtSignIn), so this holds across
    // restarts and instances.
    const confirmed = Math.max(this.#confirmedAt.get(personId) ?? 0, person.lastSeenAt ?? person.createdAt);
    if (now - confirmed < identity.revalidateSeconds) return 'ok';
    const refreshToken = await people.idpRefreshToken(personId);
    if (!refreshToken) return 'ok';
    try {
      const { claims, tokens } = await idp.refresh(refreshToken, person.sub);
      if (tokens.refreshToken && tokens.refreshToken !== refreshToken) await people.keepIdpRefreshToken(personId, tokens.refreshToken);
      await store.people.upsertAtSignIn(claims, personId, now); // the same (iss, sub): email, name, groups updated
      if (!mayUseKeyhole(identity, claims.groups)) return await this.#offboard(personId, 'not_in_allowed_groups');
      this.#confirmedAt.set(personId, now);
      return 'ok';
    } catch (e) {
      if (e instanceof OrgIdpRefusedError) return await this.#offboard(personId, e.reason);
      if (e instanceof OrgSignInInvalidError && e.reason === 'sub') return await this.#offboard(personId, 'sub_changed');
      const kind = e instanceof OrgIdpUnavailableError ? e.kind : e instanceof OrgSignInInvalidError ? 'protocol' : 'network';
      const withinGrace = now - confirmed < identity.revalidateSeconds + (this.deps.graceSeconds ?? identity.revalidateSeconds);
      await events.record({ type: 'person.revalidation_failed', outcome: 'failure', personId, detail: { kind, within_grace: withinGrace } });
      return withinGrace ? 'ok' : 'unavailable';
    }
  }

  async #offboard(personId: string, reason: string): Promise<PersonCheckOutcome> {
    this.#confirmedAt.delete(personId);
    await this.deps.events.record({ type: 'person.refused', outcome: 'failure', personId, detail: { reason: `idp_${reason}`, at: 'revalidation' } });
    await this.deps.people.offboard(personId, { actor: IDP_ACTOR, via: 'idp' });
    return 'refused';
  }
}
