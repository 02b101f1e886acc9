/**
 * The hook through which a refresh of keyhole's token re-checks the grant's person (issue 13 §3, "the IdP says no").
 * The grants layer only defines it; src/people/idp-revalidator.ts implements it and src/keyhole.ts wires it into the
 * grant service. Without `identity` (or for a grant without a person) nothing is checked.
 *
 * The answer, before the refresh token is used (so a refused or postponed refresh leaves it as it was):
 * - `ok`: refresh as usual;
 * - `refused`: the IdP says no; the implementation has offboarded the person (every grant revoked), and the refresh
 *   answers `invalid_grant` (RFC 6749 §5.2);
 * - `unavailable`: the IdP could not be asked and the grace period is over: the refresh answers 503
 *   `temporarily_unavailable` and the grant stays (fail closed, the client can retry once the IdP is back).
 */
export type PersonCheckOutcome = 'ok' | 'refused' | 'unavailable';

export interface PersonCheck {
  beforeRefresh(personId: string): Promise<PersonCheckOutcome>;
}
