/** The `ctx` bound into each vault ciphertext, so a ciphertext copied to another row or field does not open. */
export const sealContext = {
  access: (grantId: string) => `upstream-access:${grantId}`,
  refresh: (grantId: string) => `upstream-refresh:${grantId}`,
  pendingVerifier: (pendingId: string) => `pending-verifier:${pendingId}`,
} as const;
