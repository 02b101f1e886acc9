/**
 * What `keyhole connect` keeps between runs, per MCP server URL: the client registration (DCR answer, or the CIMD
 * URL as client_id) and the OAuth tokens, exactly as the SDK handed them over (they carry `issuer`, so the SDK never
 * presents them to another authorization server). The PKCE verifier and `state` never leave memory.
 */
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

export interface ConnectCredentials {
  client?: OAuthClientInformationMixed;
  tokens?: OAuthTokens;
}

/** One stored record per MCP server URL (the account / file name). */
export interface CredentialStore {
  readonly kind: 'keychain' | 'file';
  /** Where the records live, for log lines (never a secret). */
  readonly location: string;
  load(serverUrl: string): Promise<ConnectCredentials>;
  save(serverUrl: string, credentials: ConnectCredentials): Promise<void>;
  remove(serverUrl: string): Promise<void>;
}

/** The stored JSON: a version, the URL it belongs to (so a file explains itself), and the credentials. */
interface StoredRecord extends ConnectCredentials {
  v: 1;
  serverUrl: string;
  savedAt: string;
}

export function encodeRecord(serverUrl: string, credentials: ConnectCredentials, now = new Date()): string {
  const record: StoredRecord = { v: 1, serverUrl, savedAt: now.toISOString(), ...credentials };
  return JSON.stringify(record);
}

/** A record that does not parse, or belongs to another URL, reads as empty: the user signs in again. */
export function decodeRecord(serverUrl: string, text: string | null | undefined): ConnectCredentials {
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  if (!parsed || typeof parsed !== 'object') return {};
  const r = parsed as Partial<StoredRecord>;
  if (r.v !== 1 || r.serverUrl !== serverUrl) return {};
  const out: ConnectCredentials = {};
  if (r.client && typeof r.client === 'object' && typeof r.client.client_id === 'string') out.client = r.client;
  if (r.tokens && typeof r.tokens === 'object' && typeof r.tokens.access_token === 'string') out.tokens = r.tokens;
  return out;
}
