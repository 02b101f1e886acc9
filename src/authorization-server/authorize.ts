/**
 * GET /authorize — validates the client's request in two phases, records a pending authorization (≤ 10 min)
 * and shows keyhole's own consent page. Nothing goes upstream before consent (docs/invariants.md #6).
 * With `identity` (issue 13), once the request is valid: no person session → 302 to /identity/login (back to this very
 * request afterwards); then the group policy (src/people/group-policy.ts): a person outside `allowedGroups`, the
 * server's `access.groups`, or every asked scope's `groups` gets a 403 page and a `person.refused` event, with no
 * pending row and no upstream redirect; consent offers only the scopes the person may have and names the person.
 * Bounded (issue 9 F2): field sizes (authorize-checks.ts), a fixed-window rate limit per client address and a global
 * one (429 page with Retry-After), the pending row written only when the consent page is rendered, and HEAD answered
 * without any side effect (Hono would otherwise run this GET handler for it).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 */
import { Hono } from 'hono';
import type { AuthorizationServerDeps } from './deps.js';
import { readQuery } from '../http/read-form.js';
import { AuthorizePageError, AuthorizeRedirectError, checkAuthorizationParams, checkClientAndRedirect, checkRequestSizes, resolveMetadataDocumentClient } from './authorize-checks.js';
import { clientRedirectUrl, formActionSource } from './client-redirect.js';
import { OAuthError } from '../oauth/errors.js';
import { randomId } from '../store/crypto/hash.js';
import type { GrantRecord } from '../store/types.js';
import { consentCsrf } from './consent-csrf.js';
import { browserGrants } from './browser-grants.js';
import { pageNonce, renderPage } from '../http/render-page.js';
import { ConsentPage } from '../../views/consent.js';
import { ErrorPage } from '../../views/error.js';
import { describeScope } from '../config/scopes.js';
import { isLoopbackHttp, redirectHost } from '../oauth/redirect-uri.js';
import { clientAddress, FixedWindowLimiter } from '../http/rate-limit.js';
import { decideAccess } from '../people/group-policy.js';
import { refusalText } from '../people/refusal-page.js';
import type { PersonRecord } from '../store/types.js';

/** Where a person reads and ends their own grants (issue 13 §6). */
export const ACCOUNT_PATH = '/account';

export const PENDING_TTL_SECONDS = 600;

/** /authorize requests per window: per client address, and for all addresses together. */
export interface AuthorizeRateLimits {
  perAddress: number;
  global: number;
  windowMs: number;
}
export const AUTHORIZE_RATE_LIMITS: AuthorizeRateLimits = { perAddress: 60, global: 1200, windowMs: 60_000 };

export function authorizeRoutes(deps: AuthorizationServerDeps, limits: AuthorizeRateLimits = AUTHORIZE_RATE_LIMITS): Hono {
  const app = new Hono();
  const perAddress = new FixedWindowLimiter(limits.perAddress, limits.windowMs);
  const global = new FixedWindowLimiter(limits.global, limits.windowMs);
  const csrf = consentCsrf(deps.config.publicUrl, deps.csrfKey);
  const remembered = browserGrants(deps.config.publicUrl, deps.csrfKey);
  const { config, store, clock } = deps;
  // Fail closed: with `identity` configured, /authorize never runs without the sign-in and the group policy.
  if (config.identity && !deps.people) throw new TypeError('authorizeRoutes: the config has "identity" but no people deps were given');

  app.get('/authorize', async (c) => {
    const nonce = pageNonce();
    // https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#bound-resource-usage-dos-resistance
    // Per address first, so that one address over its limit does not use up the global budget.
    if (!perAddress.take(clientAddress(c)) || !global.take('*')) {
      c.header('Retry-After', String(Math.ceil(limits.windowMs / 1000)));
      return renderPage(c, ErrorPage({ nonce, title: 'Too many authorization requests', error: 'temporarily_unavailable', description: 'Too many authorization requests were made. Wait a minute, then start again from your application.' }), { nonce, status: 429 });
    }
    // HEAD (link scanners, prefetchers): no validation, no pending row, no cookie.
    if (c.req.method === 'HEAD') {
      c.header('Cache-Control', 'no-store');
      return c.body(null, 200);
    }
    try {
      const q = readQuery(new URL(c.req.url));
      checkRequestSizes(q);
      await resolveMetadataDocumentClient(deps.clientIdMetadata, q);
      const v = await checkClientAndRedirect(store, q);
      const r = checkAuthorizationParams(config, deps.resources, v, q);
      const server = config.servers[r.server]!;
      // Organization sign-in first, then who may use what (issue 13): all before any pending row or upstream redirect.
      let person: PersonRecord | undefined;
      if (deps.people && config.identity) {
        const signedIn = await deps.people.sessions.read(c);
        if (!signedIn) {
          const here = new URL(c.req.url);
          return c.redirect(`/identity/login?return=${encodeURIComponent(here.pathname + here.search)}`, 302);
        }
        person = signedIn.person;
        const decision = decideAccess(config.identity, server, person.groups, r.scopes);
        if (!decision.ok) {
          await deps.people.service.refuse(person, decision.reason, { server: r.server, clientId: v.client.clientId, scopes: r.scopes });
          const text = refusalText(decision.reason, server.displayName ?? r.server);
          return renderPage(c, ErrorPage({ nonce, title: text.title, error: 'access_denied', description: text.description }), { nonce, status: 403 });
        }
        r.scopes = decision.scopes;
      }
      const now = clock();
      const pendingId = randomId('p');
      await store.pending.deleteExpired(now);
      // Step-up: this browser already holds an active grant for the same client and server.
      let stepUp: GrantRecord | undefined;
      for (const id of remembered.read(c)) {
        const g = await store.grants.find(id);
        if (g?.status === 'active' && g.clientId === v.client.clientId && g.server === r.server && (g.person?.id ?? null) === (person?.id ?? null)) {
          stepUp = g;
          break;
        }
      }
      const upstream = deps.upstreamClients.get(r.server)!;
      const as = await upstream.metadata().catch(() => undefined);
      const upstreamAuthorize = as?.authorization_endpoint ?? server.oauth.authorizationEndpoint ?? server.oauth.issuer ?? '';
      const upstreamHost = upstreamAuthorize ? new URL(upstreamAuthorize).host : 'the upstream service';
      const token = csrf.issue(c, pendingId, v.client.clientId);
      let loopback = false;
      try {
        loopback = isLoopbackHttp(new URL(v.redirectUri));
      } catch {
        loopback = false;
      }
      // Written only now that the consent page is rendered (nothing can fail between here and the response).
      await store.pending.create({
        id: pendingId,
        request: { clientId: v.client.clientId, redirectUri: v.redirectUri, codeChallenge: r.codeChallenge, state: r.state ?? null, scopes: r.scopes, resource: r.resource, server: r.server },
        upstreamStateHash: null,
        upstreamVerifier: null,
        upstreamScopes: [],
        grantId: stepUp?.id ?? null,
        personId: person?.id ?? null,
        createdAt: now,
        expiresAt: now + PENDING_TTL_SECONDS,
      });
      return renderPage(
        c,
        ConsentPage({
          nonce,
          pendingId,
          csrf: token,
          clientName: typeof v.client.metadata.client_name === 'string' ? v.client.metadata.client_name : null,
          clientId: v.client.clientId,
          clientKind: v.client.kind,
          redirectHost: redirectHost(v.redirectUri),
          redirectIsLoopback: loopback,
          serverName: server.displayName ?? r.server,
          resource: r.resource,
          upstreamHost,
          scopes: r.scopes.map((s) => ({ name: s, description: describeScope(server, s) })),
          alreadyGranted: stepUp?.scopes ?? [],
          signedInAs: person ? { name: person.name, email: person.email } : undefined,
          accountUrl: config.identity ? ACCOUNT_PATH : undefined,
        }),
        // Chromium applies form-action to the redirects that follow the POST: allow the upstream and the client.
        // Referrer-Policy same-origin: the consent POST then carries keyhole's Origin, which POST /consent requires.
        { nonce, referrerPolicy: 'same-origin', formAction: [...(upstreamAuthorize ? [new URL(upstreamAuthorize).origin] : []), formActionSource(v.redirectUri)] },
      );
    } catch (e) {
      if (e instanceof AuthorizeRedirectError) {
        return c.redirect(clientRedirectUrl(e.redirectUri, config.publicUrl, { error: e.error, state: e.state }), 302);
      }
      const err = e instanceof AuthorizePageError ? e.error : e instanceof OAuthError ? e : undefined;
      if (!err) throw e;
      return renderPage(c, ErrorPage({ nonce, title: 'This authorization request cannot continue', error: err.errorCode, description: err.message }), { nonce, status: 400 });
    }
  });
  return app;
}
