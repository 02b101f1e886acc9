/** Every lifecycle event keyhole records. Ids and fingerprints only, never a token value. */
export const EVENT_TYPES = [
  'client.registered',
  'consent.approved',
  'consent.denied',
  'grant.created',
  'grant.updated',
  'grant.revoked',
  'code.issued',
  'code.redeemed',
  'code.replayed',
  'token.issued',
  'token.refreshed',
  'token.revoked',
  'refresh.replay_detected',
  'upstream.authorized',
  'upstream.authorization_failed',
  'upstream.token_refreshed',
  'upstream.refresh_failed',
  'upstream.refresh_write_failed',
  'upstream.refresh_write_recovered',
  'upstream.revocation',
  'upstream.client_registered',
  'upstream.credential_rejected',
  'identity.signing_key_rotated',
  'client.blocked',
  'client.deleted',
  'admin.signed_in',
  'admin.sign_in_failed',
  'admin.signed_out',
  'consent.binding_failed',
  'client.expired',
  'tools.approved',
  'alert.raised',
  'retention.purged',
  'tools.changed',
  // issue 13, people: a person signed in through the organization's IdP; was refused (offboarded, outside a group,
  // IdP error), with `detail.reason`; was offboarded (`detail.via` admin | scim | idp, `detail.actor`, revoked grant
  // ids); was reinstated. Person id in the event's `personId`, never an IdP token.
  'person.signed_in',
  'person.refused',
  'person.offboarded',
  'person.reinstated',
  // issue 13 §3: SCIM created or updated a person (`detail.fields`, never the SCIM token); the IdP could not be asked
  // when a refresh re-checked the person (`detail.kind`, `detail.within_grace`).
  'person.provisioned',
  'person.scim_updated',
  'person.revalidation_failed',
  // issue 13 §4/§6: a signed-in person who is not an admin was refused at /admin (admin SSO); a person asked /account
  // to revoke a grant that is not theirs (refused, nothing revoked; `detail.grant_id` as given, truncated).
  'admin.sign_in_refused',
  'account.revoke_refused',
  // A refused SCIM bearer (`detail.reason` missing | wrong | limited, `detail.address`, `detail.suppressed`: refusals
  // from that address not recorded since its last event; at most one a minute per address). Never the token.
  'scim.auth_failed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
