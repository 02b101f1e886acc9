/**
 * keyhole's own client registrations at upstream authorization servers (issue 5 auto-registration).
 *
 * Table `upstream_registrations` (SQLite: ../sqlite/upstream-registrations.ts), keyed by (server, issuer); as a
 * vault entry its id is the JSON `["<server>","<issuer>"]`.
 */
import type { Sealed } from './values.js';

/**
 * keyhole's own client registration at an upstream authorization server found through MCP authorization
 * discovery (RFC 9728 → RFC 8414), by dynamic registration (RFC 7591) or a client ID metadata document.
 * Secrets are vault ciphertexts sealed for ctx `upstream-client-secret:<server>:<issuer>` and
 * `upstream-registration-token:<server>:<issuer>`.
 */
export interface UpstreamRegistration {
  server: string;
  /** The authorization server's issuer, as in its metadata. */
  issuer: string;
  /** 'dcr' (RFC 7591) or 'cimd' (client_id is keyhole's client metadata document URL). */
  kind: 'dcr' | 'cimd';
  clientId: string;
  clientSecret: Sealed | null;
  /** When the client secret expires (RFC 7591 `client_secret_expires_at`); null when it does not. */
  clientSecretExpiresAt: number | null;
  tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** RFC 7592 management: the registration access token (sealed) and the client configuration endpoint. */
  registrationAccessToken: Sealed | null;
  registrationClientUri: string | null;
  /** Registered metadata as the AS returned it, secrets removed. */
  metadata: Record<string, unknown>;
  createdAt: number;
}

export interface UpstreamRegistrationRepository {
  /** Insert or replace keyhole's registration at an upstream authorization server (one per server + issuer). */
  put(r: UpstreamRegistration): Promise<void>;
  find(server: string, issuer: string): Promise<UpstreamRegistration | undefined>;
  delete(server: string, issuer: string): Promise<void>;
}
