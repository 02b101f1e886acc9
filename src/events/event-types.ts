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
  'upstream.revocation',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
