import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConnectOAuthProvider } from '../../../src/connect/connect-oauth-provider.js';
import type { ConnectCredentials, CredentialStore } from '../../../src/connect/credential-store.js';

/** An in-memory CredentialStore (the interface's simplest real implementation). */
class MemoryStore implements CredentialStore {
  readonly kind = 'file' as const;
  readonly location = 'memory';
  readonly records = new Map<string, ConnectCredentials>();
  async load(url: string) { return this.records.get(url) ?? {}; }
  async save(url: string, c: ConnectCredentials) { this.records.set(url, structuredClone(c)); }
  async remove(url: string) { this.records.delete(url); }
}

const SERVER = 'https://kh.example.com/mcp/a';
function make(credentials: ConnectCredentials = {}) {
  const store = new MemoryStore();
  const opened: URL[] = [];
  const logs: string[] = [];
  const provider = new ConnectOAuthProvider({
    serverUrl: SERVER, store, credentials, redirectUrl: 'http://127.0.0.1:5555/callback', softwareVersion: '0.1.0',
    onAuthorizationUrl: (u) => opened.push(u), log: (l) => logs.push(l),
  });
  return { provider, store, opened, logs };
}
const challenge = (v: string) => createHash('sha256').update(v).digest('base64url');
const authUrl = (state: string, verifier: string) => new URL(`https://kh.example.com/authorize?state=${state}&code_challenge=${challenge(verifier)}`);

describe('ConnectOAuthProvider', () => {
  it('registers as a public native client with the loopback redirect', () => {
    const { provider } = make();
    expect(provider.clientMetadata).toMatchObject({ redirect_uris: ['http://127.0.0.1:5555/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] });
  });

  it('pairs each authorization URL with its own verifier even when two flows interleave, and opens only the first', () => {
    const { provider, opened, logs } = make();
    const sA = provider.state();
    const sB = provider.state();
    provider.saveCodeVerifier('verifier-B-0123456789012345678901234567890123');
    provider.saveCodeVerifier('verifier-A-0123456789012345678901234567890123');
    provider.redirectToAuthorization(authUrl(sA, 'verifier-A-0123456789012345678901234567890123'));
    provider.redirectToAuthorization(authUrl(sB, 'verifier-B-0123456789012345678901234567890123'));
    expect(opened.map((u) => u.searchParams.get('state'))).toEqual([sA]);
    expect(logs.join('\n')).toContain('another request needs authorization');
    provider.redeem(sB);
    expect(provider.codeVerifier()).toBe('verifier-B-0123456789012345678901234567890123');
    provider.redeem(sA);
    expect(provider.codeVerifier()).toBe('verifier-A-0123456789012345678901234567890123');
    expect(provider.isPendingState(sA)).toBe(true);
    provider.endSignIn();
    expect(provider.isPendingState(sA)).toBe(false);
    expect(() => provider.codeVerifier()).toThrow(/no PKCE verifier/);
  });

  it('refuses an authorization URL whose challenge it did not make', () => {
    const { provider } = make();
    provider.saveCodeVerifier('mine-0123456789012345678901234567890123456789');
    expect(() => provider.redirectToAuthorization(authUrl('s', 'someone-else-01234567890123456789012345678901'))).toThrow(/PKCE challenge/);
  });

  it('persists registrations and tokens, drops tokens on invalidation and removes an empty record', async () => {
    const { provider, store } = make();
    await provider.saveClientInformation({ client_id: 'c_1' });
    await provider.saveTokens({ access_token: 'at', token_type: 'Bearer', refresh_token: 'rt' });
    expect(store.records.get(SERVER)).toEqual({ client: { client_id: 'c_1' }, tokens: { access_token: 'at', token_type: 'Bearer', refresh_token: 'rt' } });
    await provider.invalidateCredentials('tokens');
    expect(store.records.get(SERVER)).toEqual({ client: { client_id: 'c_1' } });
    expect(provider.tokens()).toBeUndefined();
    await provider.invalidateCredentials('all');
    expect(store.records.has(SERVER)).toBe(false);
  });

  it('asks for iss only when the server announced RFC 9207 support', () => {
    const { provider } = make();
    const metadata = { issuer: 'https://kh.example.com', authorization_endpoint: 'https://kh.example.com/authorize', token_endpoint: 'https://kh.example.com/token', response_types_supported: ['code'] };
    provider.saveDiscoveryState({ authorizationServerUrl: 'https://kh.example.com', authorizationServerMetadata: metadata });
    expect(provider.expectedIssuer()).toBeUndefined();
    provider.saveDiscoveryState({ authorizationServerUrl: 'https://kh.example.com', authorizationServerMetadata: { ...metadata, authorization_response_iss_parameter_supported: true } as typeof metadata });
    expect(provider.expectedIssuer()).toBe('https://kh.example.com');
  });
});
