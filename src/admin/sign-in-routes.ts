/**
 * Admin sign-in and sign-out.
 *
 * With admin SSO (`identity.admins`, issue 13 §4; sso-session.ts): GET /admin/login sends a signed-out browser to
 * the organization sign-in (/identity/login?return=/admin/login), records `admin.signed_in` (via `sso`, with the
 * person id; once per person session, sso-session.ts) for an admin and goes on to the grants, and answers a non-admin with a 403 page and an
 * `admin.sign_in_refused` event. The token form is off (POST /admin/login: 403); sign-out ends the person session.
 *
 * Without it: the admin token (config `admin.token`) is compared in constant time; failed
 * attempts are limited per client address (5 a minute by default) and across addresses (20 a minute, then a
 * decaying backoff), with 429 and `Retry-After` before any comparison, even for the right token
 * (AdminAttemptGuard, src/http/failure-limiter.ts). Success starts a server-side session (session.ts).
 */
import { Hono } from 'hono';
import { clientAddress } from '../http/client-address.js';
import { safeEqual } from '../store/crypto/hash.js';
import type { AdminContext } from './admin-context.js';
import { adminBodyLimit, csrfProtect, isSameOrigin, type FormEnv } from './csrf.js';
import { adminMessage, adminPage } from './page.js';
import { LoginPage } from '../../views/admin/login.js';
import { mediaType } from '../http/media-type.js';
import { checkSso, orgLoginUrl, refuseNonAdmin, type AdminSso } from './sso-session.js';

export function signInRoutes(ctx: AdminContext): Hono<FormEnv> {
  if (ctx.sso) return ssoSignInRoutes(ctx, ctx.sso);
  const token = ctx.token;
  if (!token) throw new TypeError('admin pages need admin.token or identity.admins');
  const app = new Hono<FormEnv>();
  const session = ctx.requireSession;
  const csrf = csrfProtect(ctx.config.publicUrl);
  const publicOrigin = new URL(ctx.config.publicUrl).origin;

  app.get('/admin', session, (c) => c.redirect('/admin/grants', 303));

  app.get('/admin/login', async (c) => {
    if (await ctx.sessions.get(ctx.cookie.read(c))) return c.redirect('/admin/grants', 303);
    return adminPage(c, (nonce) => LoginPage({ nonce }));
  });

  app.post('/admin/login', adminBodyLimit, async (c) => {
    if (!isSameOrigin({ origin: c.req.header('origin'), fetchSite: c.req.header('sec-fetch-site') }, publicOrigin)) {
      return adminMessage(c, 403, 'Forbidden', 'This sign-in form was sent from another site and was refused.');
    }
    const address = clientAddress(c);
    const refused = ctx.limiter.refusal(address);
    if (refused) {
      // https://www.rfc-editor.org/rfc/rfc6585#section-4 — 429 MAY include Retry-After.
      c.header('Retry-After', String(refused.retryAfter));
      const from = refused.scope === 'address' ? ' from this address' : '';
      return adminMessage(c, 429, 'Too many attempts', `Too many failed sign-in attempts${from}. Try again in ${refused.retryAfter} seconds.`);
    }
    const type = mediaType(c.req.header('content-type'));
    const form = type === 'application/x-www-form-urlencoded' ? new URLSearchParams(await c.req.text()) : new URLSearchParams();
    const given = form.getAll('token').length === 1 ? form.get('token')! : '';
    if (given === '' || !safeEqual(given, token)) {
      const lockout = ctx.limiter.fail(address);
      await ctx.events.record({ type: 'admin.sign_in_failed', outcome: 'failure', detail: { via: 'page', address, ...(lockout ? { lockout_seconds: lockout } : {}) } });
      return adminPage(c, (nonce) => LoginPage({ nonce, error: 'That admin token is not right.' }), 401);
    }
    ctx.limiter.succeed(address);
    const { cookieValue } = await ctx.sessions.create();
    ctx.cookie.write(c, cookieValue);
    await ctx.events.record({ type: 'admin.signed_in', detail: { via: 'page', actor: 'admin:token', address } });
    c.header('Cache-Control', 'no-store');
    return c.redirect('/admin/grants', 303);
  });

  app.post('/admin/logout', adminBodyLimit, session, csrf, async (c) => {
    await ctx.sessions.destroy(c.get('session'));
    ctx.cookie.clear(c);
    await ctx.events.record({ type: 'admin.signed_out', detail: { via: 'page' } });
    return c.redirect('/admin/login', 303);
  });

  return app;
}

/** Admin SSO: the organization's IdP signs admins in (see the file comment). */
function ssoSignInRoutes(ctx: AdminContext, sso: AdminSso): Hono<FormEnv> {
  const app = new Hono<FormEnv>();
  const session = ctx.requireSession;
  const csrf = csrfProtect(ctx.config.publicUrl);

  app.get('/admin', session, (c) => c.redirect('/admin/grants', 303));

  app.get('/admin/login', async (c) => {
    c.header('Cache-Control', 'no-store');
    const check = await checkSso(sso, c);
    if (check.kind === 'signed_out') return c.redirect(orgLoginUrl('/admin/login'), 303);
    if (check.kind === 'not_admin') return refuseNonAdmin(sso, c, check.signedIn);
    await ctx.recordSsoSignIn?.(c, check);
    return c.redirect('/admin/grants', 303);
  });

  app.post('/admin/login', adminBodyLimit, (c) =>
    adminMessage(c, 403, 'Sign in with your organization', "Admins sign in through the organization's sign-in here (identity.admins); the admin token is for the JSON API only."),
  );

  app.post('/admin/logout', adminBodyLimit, session, csrf, async (c) => {
    const { personId, actor } = c.get('session');
    await sso.sessions.end(c);
    await ctx.events.record({ type: 'admin.signed_out', personId: personId ?? null, detail: { via: 'sso', actor } });
    return c.redirect('/admin/login', 303);
  });

  return app;
}
