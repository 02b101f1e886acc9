/**
 * Judges one request to the loopback redirect URI. Pure, so each rule has a unit test.
 * - `state` must be one this process sent (RFC 6749 §10.12: CSRF); anything else is ignored and the wait goes on,
 *   so a stray or forged request can neither finish nor cancel the sign-in.
 * - With a known state, `error` ends the sign-in (RFC 6749 §4.1.2.1), and so does a wrong or missing `iss` when the
 *   authorization server announces RFC 9207 (mix-up defence, RFC 9207 §2.4).
 */
export type CallbackVerdict =
  | { kind: 'code'; code: string; state: string }
  | { kind: 'ignore'; reason: string }
  | { kind: 'fail'; reason: string };

export interface ExpectedResponse {
  isPendingState(state: string): boolean;
  /** The authorization server's issuer, when its metadata says `authorization_response_iss_parameter_supported`. */
  issuer?: string | undefined;
}

/** @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2 and https://www.rfc-editor.org/rfc/rfc9207#section-2.4 */
export function judgeAuthorizationResponse(query: URLSearchParams, expected: ExpectedResponse): CallbackVerdict {
  const state = query.get('state');
  // https://www.rfc-editor.org/rfc/rfc6749#section-10.12 — bind the response to this user agent's request
  if (!state || !expected.isPendingState(state)) return { kind: 'ignore', reason: 'unknown or missing state' };
  const iss = query.get('iss');
  if (expected.issuer !== undefined) {
    // https://www.rfc-editor.org/rfc/rfc9207#section-2.4 — MUST reject a missing or different iss when announced
    if (iss === null) return { kind: 'fail', reason: 'the authorization response has no iss parameter (RFC 9207)' };
    if (iss !== expected.issuer) return { kind: 'fail', reason: `the authorization response came from issuer ${JSON.stringify(iss)}, not ${JSON.stringify(expected.issuer)}` };
  }
  const error = query.get('error');
  if (error !== null) {
    const description = query.get('error_description');
    return { kind: 'fail', reason: `the authorization server answered ${error}${description ? `: ${description}` : ''}` };
  }
  const code = query.get('code');
  if (!code) return { kind: 'fail', reason: 'the authorization response has neither code nor error' };
  return { kind: 'code', code, state };
}
