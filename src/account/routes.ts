/**
 * /account (issue 13 §6): each person sees and ends their own access.
 *
 * With `identity`:
 * - GET /account: signed out → 302 /identity/login?return=/account; else the person's active grants (client, server,
 *   scopes, upstream account, last use), each with a "Revoke…" link;
 * - GET /account/grants/:id: the confirmation step for one of the person's active grants;
 * - POST /account/revoke (`grant`, `csrf`): ends the grant through the grant service, the same path as an admin's
 *   (keyhole tokens, the sealed upstream tokens revoked at the upstream per RFC 7009, open streams), recorded as
 *   `grant.revoked` with actor `person:<id>`, then 303 back to /account;
 * - POST /account/logout: ends the person session.
 * A grant id that is not one of the person's (another person's, unknown, malformed) answers the same 404 page either
 * way, in the URL or in the form: nothing is revoked and nothing tells whether it exists. A refused POST is recorded
 * (`account.revoke_refused`). Forms are CSRF-protected (./account-csrf.ts).
 *
 * Without `identity`, keyhole cannot know who the person is: /account says the admin manages access.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { AccountDeps } from './deps.js';
import { ACCOUNT_FORM_MAX_BYTES, accountCsrf, csrfValid, fromKeyhole } from './account-csrf.js';
import type { GrantRecord, PersonRecord } from '../store/types.js';
import type { PersonSession } from '../people/person-session.js';
import { pageNonce, renderPage } from '../http/render-page.js';
import { mediaType } from '../http/media-type.js';
import { AccountMessagePage, AccountPage, ConfirmRevokePage, ManagedByAdminPage, type AccountGrant } from '../../views/account/account.js';

export const ACCOUNT_PATH = '/account';
/** The grant-revocation reason when a person revokes their own grant. */
export const PERSON_REVOKED_REASON = 'person_revoked';
const LOGIN = `/identity/login?return=${encodeURIComponent(ACCOUNT_PATH)}`;
const GRANT_ID = /^[A-Za-z0-9_-]{1,64}$/;

function page(c: Context, build: (nonce: string) => JSX.Element, status: ContentfulStatusCode = 200): Response {
  const nonce = pageNonce();
  return renderPage(c, build(nonce), { nonce, status, referrerPolicy: 'same-origin' });
}

function message(c: Context, status: ContentfulStatusCode, title: string, text: string, link?: { href: string; label: string }): Response {
  return page(c, (nonce) => AccountMessagePage({ nonce, title, message: text, link, alert: status >= 400 }), status);
}

const notYours = (c: Context) =>
  message(c, 404, 'No such access', 'You have no access with this id. It may have ended already.', { href: ACCOUNT_PATH, label: 'Back to your access' });

export function accountRoutes(deps: AccountDeps): Hono {
  const app = new Hono();
  const sessions = deps.config.identity ? deps.people?.sessions : undefined;
  if (!sessions) {
    app.get(ACCOUNT_PATH, (c) => page(c, (nonce) => ManagedByAdminPage({ nonce })));
    return app;
  }
  const { store, events, grants, csrfKey, config } = deps;
  const publicOrigin = new URL(config.publicUrl).origin;

  const viewOf = async (g: GrantRecord): Promise<AccountGrant> => {
    const client = await store.clients.find(g.clientId);
    const name = client?.metadata.client_name;
    return {
      id: g.id,
      clientName: typeof name === 'string' && name.trim() !== '' ? name : null,
      clientId: g.clientId,
      server: g.server,
      serverName: config.servers[g.server]?.displayName ?? g.server,
      scopes: g.scopes,
      subject: g.subject,
      subjectName: g.subjectName,
      createdAt: g.createdAt,
      lastUsedAt: g.lastUsedAt,
    };
  };

  /** The grant when it is this person's and active; undefined for anything else (one answer for all). */
  const ownActiveGrant = async (person: PersonRecord, id: string | null | undefined): Promise<GrantRecord | undefined> => {
    if (!id || !GRANT_ID.test(id)) return undefined;
    const grant = await store.grants.find(id);
    return grant && grant.person?.id === person.id && grant.status === 'active' ? grant : undefined;
  };

  const signedIn = async (c: Context): Promise<PersonSession | undefined> => {
    c.header('Cache-Control', 'no-store');
    return sessions.read(c);
  };

  app.get(ACCOUNT_PATH, async (c) => {
    const who = await signedIn(c);
    if (!who) return c.redirect(LOGIN, 302);
    const active = (await store.grants.listByPerson(who.person.id)).filter((g) => g.status === 'active');
    const views = await Promise.all(active.map(viewOf));
    const revoked = c.req.query('revoked');
    const notice = revoked === '1' ? 'The access was revoked.' : revoked === '0' ? 'That access had already ended.' : undefined;
    return page(c, (nonce) => AccountPage({ nonce, csrf: accountCsrf(csrfKey, who.session.hash), person: who.person, grants: views, notice }));
  });

  app.get(`${ACCOUNT_PATH}/grants/:id`, async (c) => {
    const who = await signedIn(c);
    if (!who) return c.redirect(LOGIN, 302);
    const grant = await ownActiveGrant(who.person, c.req.param('id'));
    if (!grant) return notYours(c);
    const view = await viewOf(grant);
    return page(c, (nonce) => ConfirmRevokePage({ nonce, csrf: accountCsrf(csrfKey, who.session.hash), grant: view }));
  });

  const limit = bodyLimit({
    maxSize: ACCOUNT_FORM_MAX_BYTES,
    onError: (c) => message(c, 413, 'Request too large', `Account forms are limited to ${ACCOUNT_FORM_MAX_BYTES} bytes.`),
  });

  /** Origin, signed-in person and CSRF token of a POST; the form, or the refusal page. */
  const checkedForm = async (c: Context): Promise<{ who: PersonSession; form: URLSearchParams } | Response> => {
    if (!fromKeyhole({ origin: c.req.header('origin'), fetchSite: c.req.header('sec-fetch-site') }, publicOrigin)) {
      return message(c, 403, 'Forbidden', 'This form was sent from another site and was refused.');
    }
    const who = await signedIn(c);
    if (!who) return message(c, 403, 'Signed out', 'You are no longer signed in. Sign in again and retry.', { href: ACCOUNT_PATH, label: 'Sign in' });
    const form = mediaType(c.req.header('content-type')) === 'application/x-www-form-urlencoded' ? new URLSearchParams(await c.req.text()) : new URLSearchParams();
    if (!csrfValid(csrfKey, who.session.hash, form.getAll('csrf'))) {
      return message(c, 403, 'Forbidden', 'The form could not be verified (missing or invalid CSRF token). Reload the page and try again.', { href: ACCOUNT_PATH, label: 'Back to your access' });
    }
    return { who, form };
  };

  app.post(`${ACCOUNT_PATH}/revoke`, limit, async (c) => {
    const checked = await checkedForm(c);
    if (checked instanceof Response) return checked;
    const { who, form } = checked;
    const given = form.getAll('grant');
    const grant = given.length === 1 ? await ownActiveGrant(who.person, given[0]) : undefined;
    if (!grant) {
      // Already revoked by this person (a double submit): back to the list, saying so.
      const mine = given.length === 1 && GRANT_ID.test(given[0]!) ? await store.grants.find(given[0]!) : undefined;
      if (mine && mine.person?.id === who.person.id) return c.redirect(`${ACCOUNT_PATH}?revoked=0`, 303);
      await events.record({
        type: 'account.revoke_refused', outcome: 'failure', personId: who.person.id,
        detail: { reason: 'not_own_grant', grant_id: (given[0] ?? '').slice(0, 64) },
      });
      return notYours(c);
    }
    const done = await grants.revoke(grant.id, PERSON_REVOKED_REASON, `person:${who.person.id}`);
    return c.redirect(`${ACCOUNT_PATH}?revoked=${done ? 1 : 0}`, 303);
  });

  app.post(`${ACCOUNT_PATH}/logout`, limit, async (c) => {
    const checked = await checkedForm(c);
    if (checked instanceof Response) return checked;
    await sessions.end(c);
    return message(c, 200, 'Signed out', 'You are signed out of keyhole. Applications you approved keep their access until you revoke it.', { href: ACCOUNT_PATH, label: 'Sign in again' });
  });

  return app;
}
