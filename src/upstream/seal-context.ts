/** Moved to the vault layer (src/vault/seal-contexts.ts); kept as a re-export for the callers above it. */
export { sealContext } from '../vault/seal-contexts.js';
