/**
 * When the token manager stops handing out an upstream access token and refreshes it instead.
 *
 * A fixed skew ("refresh 60 s before expiry") is longer than the whole life of a short-lived token: an upstream
 * that issues 15-second tokens would be refreshed on every call. So the automatic skew scales with the token's
 * lifetime: min(60 s, lifetime / 4). A 15 s token is refreshed from 11.25 s on, a 5 min token 60 s before it expires.
 * The lifetime needs no column: the stored credential's `updatedAt` is when the token was received, and
 * `accessExpiresAt` is that moment plus the upstream's `expires_in`.
 *
 * An explicitly configured skew (`tokens.upstreamRefreshSkewSeconds`) is used as is, even when it is longer than
 * the lifetime (then every call refreshes; the e2e suites use that to force upstream refreshes).
 */

/** The automatic skew's upper bound, in seconds. */
export const AUTO_REFRESH_SKEW_SECONDS = 60;
/** The automatic skew's share of the token's lifetime: at least 3/4 of a token's life is used before refreshing. */
export const AUTO_REFRESH_LIFETIME_SHARE = 0.25;

/**
 * @param expiresAt the access token's absolute expiry (epoch seconds), or null when the upstream did not say.
 * @param receivedAt when keyhole received the token (epoch seconds: the credential's `updatedAt`).
 * @param skewSeconds a configured skew, used as is; undefined for the automatic one.
 * @returns the epoch second from which the token is refreshed before use, or null when it never is (no expiry).
 */
export function refreshMoment(expiresAt: number | null, receivedAt: number, skewSeconds: number | undefined): number | null {
  if (expiresAt === null) return null;
  const lifetime = Math.max(0, expiresAt - receivedAt);
  const skew = skewSeconds ?? Math.min(AUTO_REFRESH_SKEW_SECONDS, lifetime * AUTO_REFRESH_LIFETIME_SHARE);
  return expiresAt - skew;
}
