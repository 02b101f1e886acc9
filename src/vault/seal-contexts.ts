/**
 * The `ctx` bound into each vault ciphertext (the JWE protected header), so a ciphertext copied to another row or
 * field does not open. One home for every kind of sealed entry: the modules that seal them and the key rotation that
 * re-seals them (./key-rotation.ts) must agree byte for byte.
 */

/** A grant's upstream tokens and a pending authorization's upstream PKCE verifier. */
export const sealContext = {
  access: (grantId: string) => `upstream-access:${grantId}`,
  refresh: (grantId: string) => `upstream-refresh:${grantId}`,
  pendingVerifier: (pendingId: string) => `pending-verifier:${pendingId}`,
} as const;

/** keyhole's own registration at an upstream authorization server (RFC 7591 client secret, registration token). */
export const registrationSealContext = {
  clientSecret: (server: string, issuer: string) => `upstream-client-secret:${server}:${issuer}`,
  registrationToken: (server: string, issuer: string) => `upstream-registration-token:${server}:${issuer}`,
} as const;

/**
 * The organization IdP's refresh token of a person (issue 13), kept to re-check the person at the IdP; stored in
 * `sealed_secrets` under this name (so key rotation and the startup check cover it like any sealed secret).
 */
export const personIdpRefreshSealContext = (personId: string) => `person-idp-refresh:${personId}`;
/** A random key every instance shares (e.g. the consent CSRF and step-up cookie key), in `sealed_secrets`. */
export const sharedKeySealContext = (name: string) => `shared-key:${name}`;

/** The private half of an identity-JWT signing key. */
export const signingKeySealContext = (kid: string) => `signing-key:${kid}`;
