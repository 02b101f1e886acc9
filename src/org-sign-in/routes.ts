/**
 * Organization sign-in (issue 13 §1): keyhole as an OpenID Connect relying party of `identity.issuer`.
 * - GET /identity/login?return=<path>: already signed in → straight back to `return`; else a fresh state, nonce and
 *   PKCE verifier (sealed into this browser's sign-in cookie, ./sign-in-transaction.ts) and 302 to the IdP. `return` is
 *   a path on keyhole only (./return-path.ts).
 * - GET /identity/callback: the transaction of `state` from this browser's cookie (none: 400), then the code exchange
 *   with the verifier, the ID token checked (nonce included) and the claims read (src/people/org-idp-client.ts), then
 *   the people service decides (offboarded, outside allowedGroups: 403 page, `person.refused`), then the person-session
 *   cookie (src/people/person-session.ts) and 303 back to `return`.
 * Every failure is a page with a 4xx (502 when the IdP cannot be reached), never a stack trace; no IdP token is logged,
 * recorded or stored except the refresh token, sealed (src/people/people-service.ts).
 * @see https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth
 */
import { Hono, type Context } from 'hono';
import type { OrgSignInDeps } from './deps.js';
import { safeReturnPath } from './return-path.js';
import { signInTransactions } from './sign-in-transaction.js';
import { pageNonce, renderPage } from '../http/render-page.js';
import { ErrorPage } from '../../views/error.js';
import { OrgIdpRefusedError, OrgIdpUnavailableError, OrgSignInInvalidError } from '../people/org-idp-client.js';
import { refusalText } from '../people/refusal-page.js';

export const LOGIN_PATH = '/identity/login';
export const CALLBACK_PATH = '/identity/callback';

export function orgSignInRoutes(deps: OrgSignInDeps): Hono {
  const app = new Hono();
  const { config, people, sessions, idp, events, clock } = deps;
  const transactions = signInTransactions(config.publicUrl, deps.cipher, clock);
  const page = (c: Context, status: 400 | 403 | 502, title: string, error: string, description: string) => {
    const nonce = pageNonce();
    return renderPage(c, ErrorPage({ nonce, title, error, description }), { nonce, status });
  };

  app.get(LOGIN_PATH, async (c) => {
    const returnTo = safeReturnPath(c.req.query('return'));
    if (await sessions.read(c)) return c.redirect(returnTo, 302);
    let request;
    try {
      request = await idp.authorizationRequest();
    } catch (e) {
      if (e instanceof OrgIdpUnavailableError) return page(c, 502, 'Sign-in is unavailable', 'temporarily_unavailable', "Your organization's sign-in service could not be reached. Try again shortly.");
      throw e;
    }
    await transactions.save(c, { state: request.state, nonce: request.nonce, codeVerifier: request.codeVerifier, returnTo });
    return c.redirect(request.url.toString(), 302);
  });

  app.get(CALLBACK_PATH, async (c) => {
    const url = new URL(c.req.url);
    const state = url.searchParams.get('state');
    const transaction = state ? await transactions.take(c, state) : undefined;
    if (!transaction) {
      return page(c, 400, 'Sign-in could not be completed', 'invalid_request', 'This sign-in response is unknown, expired, already used, or was started in another browser. Start again from your application.');
    }
    let signIn;
    try {
      // The callback URL as the IdP sent it, against keyhole's public URL (behind a proxy the request URL may differ).
      const callback = new URL(`${config.publicUrl}${CALLBACK_PATH}${url.search}`);
      signIn = await idp.exchangeCode(callback, transaction);
    } catch (e) {
      if (e instanceof OrgIdpRefusedError) {
        await events.record({ type: 'person.refused', outcome: 'failure', detail: { reason: 'idp_refused', idp_error: e.reason } });
        return page(c, 403, 'Sign-in was refused', 'access_denied', `Your organization's sign-in service did not sign you in (${e.reason}). Start again from your application.`);
      }
      if (e instanceof OrgSignInInvalidError) {
        await events.record({ type: 'person.refused', outcome: 'failure', detail: { reason: 'invalid_sign_in', check: e.reason } });
        return page(c, 400, 'Sign-in could not be completed', 'invalid_request', 'The sign-in response did not pass keyhole\'s checks. Start again from your application.');
      }
      if (e instanceof OrgIdpUnavailableError) return page(c, 502, 'Sign-in is unavailable', 'temporarily_unavailable', "Your organization's sign-in service could not be reached. Try again shortly.");
      throw e;
    }
    const outcome = await people.signIn(signIn.claims, signIn.tokens.refreshToken);
    if (!outcome.ok) {
      const text = refusalText(outcome.reason);
      return page(c, 403, text.title, 'access_denied', text.description);
    }
    await sessions.start(c, outcome.person.id);
    return c.redirect(transaction.returnTo, 303);
  });

  return app;
}
