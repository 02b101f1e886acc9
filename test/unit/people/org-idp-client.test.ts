/**
 * The organization IdP's relying-party client (src/people/org-idp-client.ts) against a real oidc-provider
 * (test/helpers/org-idp.ts): PKCE S256 + state + nonce, code exchange, ID token validation, userinfo claims
 * (groups), refresh, and the IdP saying no (error=, a replayed code, a revoked grant, a disabled account).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrgIdpClient, OrgIdpRefusedError, OrgIdpUnavailableError, OrgSignInInvalidError, groupsOf } from '../../../src/people/org-idp-client.js';
import { startOrgIdp, type OrgIdp } from '../../helpers/org-idp.js';
import { CookieBrowser, completeUpstreamLogin } from '../../helpers/cookie-browser.js';

const PUBLIC_URL = 'http://127.0.0.1:9';
const REDIRECT = `${PUBLIC_URL}/identity/callback`;

describe('OrgIdpClient against oidc-provider', () => {
  let idp: OrgIdp;
  let client: OrgIdpClient;

  beforeAll(async () => {
    idp = await startOrgIdp({
      publicUrl: PUBLIC_URL,
      accounts: {
        alice: { email: 'alice@acme.example', name: 'Alice Doe', groups: ['engineering', 'keyhole-admins'] },
        bob: { email: 'bob@acme.example', name: 'Bob Roe', groups: ['sales'] },
      },
    });
    client = new OrgIdpClient({ issuer: idp.issuer, clientId: idp.client.clientId, clientSecret: idp.client.clientSecret, scopes: ['openid', 'email', 'profile'], groupsClaim: 'groups' }, REDIRECT);
  });
  afterAll(async () => {
    await idp?.close();
  });

  async function signIn(login: string) {
    const req = await client.authorizationRequest();
    const callback = await completeUpstreamLogin(new CookieBrowser(), req.url, { login, stopAt: REDIRECT });
    return { req, callback };
  }

  it('asks with PKCE S256, state and nonce, and signs a person in with email, name and groups', async () => {
    const { req, callback } = await signIn('alice');
    const q = req.url.searchParams;
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('code_challenge')).not.toBe(req.codeVerifier);
    expect(q.get('state')).toBe(req.state);
    expect(q.get('nonce')).toBe(req.nonce);
    expect(q.get('redirect_uri')).toBe(REDIRECT);
    expect(q.get('scope')).toBe('openid email profile');
    const done = await client.exchangeCode(callback, req);
    expect(done.claims).toEqual({ iss: idp.issuer, sub: 'alice', email: 'alice@acme.example', name: 'Alice Doe', groups: ['engineering', 'keyhole-admins'] });
    expect(done.tokens.idToken).toMatch(/^eyJ/);
    expect(done.tokens.refreshToken).toBeTruthy();
  });

  it('refuses a callback with another state, and a code exchanged with the wrong nonce', async () => {
    const a = await signIn('bob');
    await expect(client.exchangeCode(a.callback, { ...a.req, state: 'not-the-state' })).rejects.toBeInstanceOf(OrgSignInInvalidError);
    const b = await signIn('bob');
    await expect(client.exchangeCode(b.callback, { ...b.req, nonce: 'another-nonce' })).rejects.toBeInstanceOf(OrgSignInInvalidError);
  });

  it('a replayed code and a wrong PKCE verifier are the IdP saying no (invalid_grant)', async () => {
    const { req, callback } = await signIn('bob');
    await client.exchangeCode(callback, req);
    await expect(client.exchangeCode(callback, req)).rejects.toMatchObject({ name: 'OrgIdpRefusedError', reason: 'invalid_grant' });
    const other = await signIn('bob');
    await expect(client.exchangeCode(other.callback, { ...other.req, codeVerifier: 'x'.repeat(43) })).rejects.toMatchObject({ reason: 'invalid_grant' });
  });

  it('error=access_denied in the callback is a refusal', async () => {
    const req = await client.authorizationRequest();
    const callback = new URL(`${REDIRECT}?error=access_denied&state=${req.state}&iss=${encodeURIComponent(idp.issuer)}`);
    await expect(client.exchangeCode(callback, req)).rejects.toMatchObject({ name: 'OrgIdpRefusedError', reason: 'access_denied' });
  });

  it('refreshes with the current claims, and is refused once the grant is revoked at the IdP or the account disabled', async () => {
    const a = await signIn('alice');
    const first = await client.exchangeCode(a.callback, a.req);
    idp.accounts.get('alice')!.groups = ['engineering'];
    const refreshed = await client.refresh(first.tokens.refreshToken!, 'alice');
    expect(refreshed.claims.groups).toEqual(['engineering']);
    expect(refreshed.tokens.refreshToken).toBeTruthy();
    await expect(client.refresh(refreshed.tokens.refreshToken!, 'mallory')).rejects.toBeInstanceOf(OrgSignInInvalidError);

    const b = await signIn('alice');
    const second = await client.exchangeCode(b.callback, b.req);
    expect(await idp.revokeGrantsOf('alice')).toBeGreaterThan(0);
    await expect(client.refresh(second.tokens.refreshToken!, 'alice')).rejects.toMatchObject({ name: 'OrgIdpRefusedError', reason: 'invalid_grant' });

    const c = await signIn('bob');
    const third = await client.exchangeCode(c.callback, c.req);
    idp.disable('bob');
    try {
      await expect(client.refresh(third.tokens.refreshToken!, 'bob')).rejects.toBeInstanceOf(OrgIdpRefusedError);
    } finally {
      idp.enable('bob');
    }
  });

  it('an unreachable IdP is unavailable, not a refusal', async () => {
    const down = new OrgIdpClient({ issuer: 'http://127.0.0.1:9', clientId: 'x', clientSecret: 'y', scopes: ['openid'], groupsClaim: 'groups' }, REDIRECT);
    await expect(down.authorizationRequest()).rejects.toBeInstanceOf(OrgIdpUnavailableError);
  });

  it('groupsOf: an array of strings, or one string', () => {
    expect(groupsOf(['a', 1, 'b'])).toEqual(['a', 'b']);
    expect(groupsOf('a')).toEqual(['a']);
    expect(groupsOf(undefined)).toEqual([]);
    expect(groupsOf({ a: 1 })).toEqual([]);
  });
});
