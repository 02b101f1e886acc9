/**
 * POST /consent — the user's decision. Refused (403 page) when the browser says it comes from another site
 * (`Origin` other than keyhole's, `null` included, or `Sec-Fetch-Site: cross-site`/`same-site`); CSRF-checked
 * (cookie nonce + HMAC bound to pending id and client).
 * Deny → `access_denied` to the client. Approve → a fresh upstream `state` and PKCE verifier (created only
 * now, after consent: docs/client-requirements.md E.22), a cookie binding the transaction to this browser
 * (transaction-binding.ts), then 303 to the upstream authorization endpoint.
 * With `identity` (issue 13): the browser must still be signed in as the person the pending authorization was made
 * for (an offboarded person's session no longer counts), else a 403 page and nothing goes upstream.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#confused-deputy-problem
 */
import { Hono } from 'hono';
import * as oauth from 'oauth4webapi';
import type { AuthorizationServerDeps } from './deps.js';
import { readForm } from '../http/read-form.js';
import { consentCsrf } from './consent-csrf.js';
import { AccessDeniedError, InvalidRequestError } from '../oauth/errors.js';
import { clientRedirectUrl } from './client-redirect.js';
import { pageNonce, renderPage } from '../http/render-page.js';
import { ErrorPage } from '../../views/error.js';
import { sha256Hex } from '../store/crypto/hash.js';
import { sealContext } from '../upstream/seal-context.js';
import { upstreamScopesFor } from '../config/scopes.js';
import { union } from '../oauth/scope.js';
import { UpstreamUnavailableError } from '../upstream/errors.js';
import { isSameOriginRequest } from '../http/same-origin.js';
import { transactionBinding } from './transaction-binding.js';

export function consentRoutes(deps: AuthorizationServerDeps): Hono {
  const app = new Hono();
  const csrf = consentCsrf(deps.config.publicUrl, deps.csrfKey);
  const binding = transactionBinding(deps.config.publicUrl);
  const publicOrigin = new URL(deps.config.publicUrl).origin;
  const { store, events, config, clock } = deps;

  app.post('/consent', async (c) => {
    const nonce = pageNonce();
    const page = (status: 400 | 403 | 502, error: string, description: string) =>
      renderPage(c, ErrorPage({ nonce, title: 'Authorization failed', error, description }), { nonce, status });
    // https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html#fetch-metadata-headers
    // The consent page is served with `Referrer-Policy: same-origin`, so a real consent POST carries keyhole's own
    // Origin: a foreign one, or `null` (sandboxed frames, data: URLs, no-referrer pages elsewhere), is refused.
    if (!isSameOriginRequest({ origin: c.req.header('origin'), fetchSite: c.req.header('sec-fetch-site') }, publicOrigin)) {
      return page(403, 'access_denied', 'This consent form was sent from another site and was refused. Start again from your application.');
    }
    let form: URLSearchParams;
    try {
      form = await readForm(c);
    } catch (e) {
      return page(400, 'invalid_request', (e as Error).message);
    }
    const pendingId = form.get('pending') ?? '';
    const pending = await store.pending.find(pendingId);
    if (!pending || pending.expiresAt <= clock() || pending.upstreamStateHash !== null) {
      return page(400, 'invalid_request', 'This authorization request has expired or was already answered.');
    }
    const req = pending.request;
    if (!csrf.verify(c, pending.id, req.clientId, form.get('csrf'))) {
      return page(403, 'invalid_request', 'The consent form could not be verified (missing or invalid CSRF token). Start again from your application.');
    }
    // The client may have been blocked or deleted since /authorize: nothing goes upstream for it.
    const client = await store.clients.find(req.clientId);
    if (!client || client.blockedAt !== null) {
      await store.pending.delete(pending.id);
      return page(400, 'invalid_client', 'This application is no longer allowed to request access.');
    }
    if (pending.personId) {
      const signedIn = await deps.people?.sessions.read(c);
      if (!signedIn || signedIn.person.id !== pending.personId) {
        await store.pending.delete(pending.id);
        return page(403, 'access_denied', 'You are no longer signed in as the person who opened this page. Start again from your application.');
      }
    }
    const decision = form.get('decision');
    const base = { clientId: req.clientId, server: req.server, personId: pending.personId ?? null };
    if (decision === 'deny') {
      await store.pending.delete(pending.id);
      csrf.clear(c, pending.id);
      await events.record({ type: 'consent.denied', ...base, outcome: 'failure', detail: { pending_id: pending.id, scopes: req.scopes } });
      return c.redirect(clientRedirectUrl(req.redirectUri, config.publicUrl, { error: new AccessDeniedError('the user denied access'), state: req.state }), 302);
    }
    if (decision !== 'approve') return page(400, 'invalid_request', 'decision must be approve or deny');

    const server = config.servers[req.server]!;
    // Incremental consent: for a step-up, ask the upstream only for the upstream scopes that are added
    // (plus the base scopes every authorization needs, e.g. openid and offline_access).
    const widened = pending.grantId ? await store.grants.find(pending.grantId) : undefined;
    const already = widened?.status === 'active' ? upstreamScopesFor(server, widened.scopes) : [];
    const upstreamScopes = widened?.status === 'active'
      ? union(server.oauth.scopes, upstreamScopesFor(server, req.scopes).filter((s) => !already.includes(s)))
      : upstreamScopesFor(server, req.scopes);
    const state = oauth.generateRandomState();
    const verifier = oauth.generateRandomCodeVerifier();
    let location: URL;
    try {
      location = await deps.upstreamClients.get(req.server)!.authorizationUrl({ state, codeChallenge: await oauth.calculatePKCECodeChallenge(verifier), scopes: upstreamScopes });
    } catch (e) {
      if (e instanceof UpstreamUnavailableError) return page(502, 'temporarily_unavailable', 'The upstream sign-in service could not be reached. Try again shortly.');
      throw e;
    }
    // Only the hashes of the upstream state and of the browser-binding cookie are stored; the verifier is sealed.
    // https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#required-protections ("OAuth State Parameter Validation")
    // — the state's cookie is set only now, after consent was approved, immediately before the upstream redirect.
    const bindingHash = binding.bind(c, pending.id, pending.expiresAt - clock());
    csrf.clear(c, pending.id);
    await store.pending.attachUpstream(pending.id, sha256Hex(state), await deps.cipher.seal(verifier, sealContext.pendingVerifier(pending.id)), upstreamScopes, bindingHash);
    await events.record({ type: 'consent.approved', ...base, detail: { pending_id: pending.id, scopes: req.scopes, upstream_scopes: upstreamScopes } });
    return c.redirect(location.toString(), 303);
  });

  // Anything else on /consent is a mistake, not a crash.
  app.all('/consent', () => {
    throw new InvalidRequestError('use the consent form');
  });
  return app;
}
