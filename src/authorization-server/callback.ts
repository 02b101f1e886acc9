/**
 * GET /oauth/callback — the upstream's authorization response.
 * 1. Find the pending authorization by the hash of `state` (single use, ≤ 10 min), and require the cookie binding it
 *    to the browser that approved consent (transaction-binding.ts). Without it: an error page, nothing else.
 * 2. Exchange the upstream code (oauth4webapi validates state and RFC 9207 `iss`; PKCE verifier sent).
 * 3. The grant service completes the authorization in one transaction: create or widen the grant (same client,
 *    server and upstream subject → same grant), store the sealed upstream tokens, issue keyhole's own single-use code
 *    (≤ 60 s, stored hashed) (src/grants/complete-authorization.ts).
 * 4. 302 to the client with code, state, iss.
 * With `identity` (issue 13) the grant records the pending authorization's person (id + sign-in snapshot); a person
 * offboarded meanwhile gets a 403 page: checked before the upstream code is exchanged, and again inside the grant's
 * transaction (PersonNotActiveError).
 * Upstream failures become an OAuth error redirect to the client; an unknown state is an error page.
 */
import { Hono } from 'hono';
import * as oauth from 'oauth4webapi';
import type { AuthorizationServerDeps } from './deps.js';
import { AccessDeniedError, ServerError, TemporarilyUnavailableError, type OAuthError } from '../oauth/errors.js';
import { clientRedirectUrl } from './client-redirect.js';
import { pageNonce, renderPage } from '../http/render-page.js';
import { ErrorPage } from '../../views/error.js';
import { sha256Hex } from '../store/crypto/hash.js';
import { sealContext } from '../upstream/seal-context.js';
import { UpstreamGrantError, UpstreamUnavailableError } from '../upstream/errors.js';
import { browserGrants } from './browser-grants.js';
import type { UpstreamAuthorization } from '../upstream/oauth-client.js';
import { transactionBinding } from './transaction-binding.js';
import { PersonNotActiveError } from '../grants/complete-authorization.js';
import type { GrantPerson } from '../store/types.js';
import { refusalText } from '../people/refusal-page.js';

export function callbackRoutes(deps: AuthorizationServerDeps): Hono {
  const app = new Hono();
  const { store, events, config, clock, cipher } = deps;
  const remembered = browserGrants(config.publicUrl, deps.csrfKey);
  const binding = transactionBinding(config.publicUrl);

  app.get('/oauth/callback', async (c) => {
    const url = new URL(c.req.url);
    const state = url.searchParams.get('state');
    const now = clock();
    const pending = state ? await store.pending.takeByUpstreamState(sha256Hex(state), now) : undefined;
    const errorPage = (description: string) => {
      const nonce = pageNonce();
      return renderPage(c, ErrorPage({ nonce, title: 'Sign-in could not be completed', error: 'invalid_request', description }), { nonce, status: 400 });
    };
    if (!pending || !pending.upstreamVerifier) return errorPage('This sign-in response is unknown, expired or was already used.');
    const req = pending.request;
    const base = { clientId: req.clientId, server: req.server };
    // Confused deputy (issue 9 F1): the state must come back to the browser that approved keyhole's consent page.
    // Checked before the upstream code is exchanged; a mismatch issues no code, creates no grant and never redirects
    // to the client (the pending authorization is consumed: its state is single-use).
    // https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#required-protections ("OAuth State Parameter Validation")
    if (!binding.matches(c, pending.id, pending.browserBindingHash)) {
      await events.record({ type: 'consent.binding_failed', ...base, outcome: 'failure', detail: { pending_id: pending.id } });
      return errorPage('This sign-in was started in another browser. For your safety it was not completed: no application received access. If you did not start it, you can ignore this page; otherwise start again from your application in this browser.');
    }
    binding.clear(c, pending.id);
    const refusedPage = () => {
      const nonce = pageNonce();
      const text = refusalText('offboarded');
      return renderPage(c, ErrorPage({ nonce, title: text.title, error: 'access_denied', description: text.description }), { nonce, status: 403 });
    };
    let person: GrantPerson | null = null;
    if (pending.personId) {
      const record = await store.people.get(pending.personId);
      if (record?.status !== 'active') return refusedPage();
      person = { id: record.id, email: record.email, name: record.name, groups: record.groups };
    }
    const toClient = (error: OAuthError) => c.redirect(clientRedirectUrl(req.redirectUri, config.publicUrl, { error, state: req.state }), 302);

    let auth: UpstreamAuthorization;
    try {
      const verifier = await cipher.open(pending.upstreamVerifier, sealContext.pendingVerifier(pending.id));
      // The callback URL as the upstream sent it: oauth4webapi checks state and iss against it.
      auth = await deps.upstreamClients.get(req.server)!.exchangeCode(url, state!, verifier);
    } catch (e) {
      const upstreamError = e instanceof oauth.AuthorizationResponseError ? e.error : undefined;
      await events.record({ type: 'upstream.authorization_failed', ...base, outcome: 'failure', detail: { pending_id: pending.id, upstream_error: upstreamError ?? (e as Error).name } });
      if (upstreamError === 'access_denied') return toClient(new AccessDeniedError('access was denied at the upstream service'));
      if (e instanceof UpstreamUnavailableError && (e.kind === 'network' || e.kind === 'timeout')) return toClient(new TemporarilyUnavailableError('the upstream service could not be reached'));
      // A malformed upstream response (wrong `iss` — RFC 9207 §2.4 mix-up defence —, implicit-flow parameters, …) is refused
      // by oauth4webapi's validateAuthResponse: an error for the client, never a 500 (docs/invariants.md #7).
      const invalidResponse = e instanceof oauth.OperationProcessingError || e instanceof oauth.UnsupportedOperationError;
      if (e instanceof UpstreamGrantError || e instanceof UpstreamUnavailableError || upstreamError || invalidResponse) return toClient(new ServerError('the upstream authorization failed'));
      throw e;
    }

    // Create or widen the grant, store the sealed upstream tokens, issue keyhole's code: one transaction (src/grants).
    let completed;
    try {
      completed = await deps.grants.completeAuthorization({ request: req, stepUpGrantId: pending.grantId, upstream: auth, upstreamScopes: pending.upstreamScopes, person });
    } catch (e) {
      if (e instanceof PersonNotActiveError) return refusedPage();
      throw e;
    }
    const { grant, code } = completed;
    remembered.remember(c, grant.id);
    return c.redirect(clientRedirectUrl(req.redirectUri, config.publicUrl, { code, state: req.state }), 302);
  });
  return app;
}
