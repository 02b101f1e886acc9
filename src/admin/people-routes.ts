/**
 * Admin People pages (issue 13 §3, §5): the list (free-text search, status, paging in SQL), one person (grants,
 * clients, servers, scopes, last use, events timeline), offboard behind a confirmation page that says how many grants
 * it ends (POST with session + CSRF, like the bulk revoke in grants-routes.ts), and reinstate.
 */
import { Hono } from 'hono';
import type { AdminContext } from './admin-context.js';
import { adminBodyLimit, csrfProtect, type FormEnv } from './csrf.js';
import { adminMessage, adminPage, parseOrInvalidPage } from './page.js';
import { parsePage, parsePersonFilter } from './filters.js';
import { buildPersonView, buildPersonViews, personTimeline } from './people-view.js';
import { PeoplePage } from '../../views/admin/people.js';
import { PersonPage } from '../../views/admin/person.js';
import { ConfirmPage } from '../../views/admin/confirm.js';

export function peopleRoutes(ctx: AdminContext): Hono<FormEnv> {
  const app = new Hono<FormEnv>();
  const session = ctx.requireSession; // the admin token session, or admin SSO (./sso-session.ts)
  const csrf = csrfProtect(ctx.config.publicUrl);
  const { store } = ctx;
  const noPerson = (c: Parameters<typeof adminMessage>[0], token: string) => adminMessage(c, 404, 'No such person', 'There is no person with this id.', token);

  app.get('/admin/people', session, async (c) => {
    const token = c.get('session').csrf;
    const query = new URL(c.req.url).searchParams;
    const parsed = parseOrInvalidPage(c, token, () => ({ filter: parsePersonFilter(query), page: parsePage(query, ctx.pageSize) }));
    if (parsed instanceof Response) return parsed;
    const { filter, page } = parsed;
    const total = await store.people.count(filter);
    const people = await buildPersonViews(store, await store.people.list({ ...filter, limit: page.limit, offset: page.offset }), ctx.clock());
    return adminPage(c, (nonce) => PeoplePage({ nonce, csrf: token, people, filter, page: page.page, pageSize: page.limit, total }));
  });

  app.get('/admin/people/:id', session, async (c) => {
    const token = c.get('session').csrf;
    const person = await store.people.get(c.req.param('id'));
    if (!person) return noPerson(c, token);
    const view = await buildPersonView(store, person, ctx.clock());
    const { events, truncated } = await personTimeline(store, view);
    const q = new URL(c.req.url).searchParams;
    const off = q.get('offboarded');
    const notice = off !== null && /^\d{1,9}$/.test(off) ? `Offboarded: ${off} grant${off === '1' ? '' : 's'} revoked, sign-in blocked.`
      : q.get('reinstated') === '1' ? 'Reinstated: this person may sign in again.' : undefined;
    return adminPage(c, (nonce) => PersonPage({ nonce, csrf: token, view, events, eventsTruncated: truncated, notice }));
  });

  app.get('/admin/people/:id/offboard', session, async (c) => {
    const token = c.get('session').csrf;
    const person = await store.people.get(c.req.param('id'));
    if (!person) return noPerson(c, token);
    const count = (await store.grants.listByPerson(person.id)).filter((g) => g.status === 'active').length;
    const id = encodeURIComponent(person.id);
    return adminPage(c, (nonce) => ConfirmPage({
      nonce, csrf: token, active: 'people', title: 'Offboard this person',
      target: [['Person', person.name ?? person.email ?? person.id], ...(person.email ? [['Email', person.email] as [string, string]] : []), ['Id', person.id]],
      count,
      note: 'Every grant ends everywhere (keyhole tokens, stored upstream tokens revoked at each upstream, open streams), and this person cannot sign in again until reinstated.',
      action: `/admin/people/${id}/offboard`, fields: {}, confirmLabel: 'Offboard', cancelHref: `/admin/people/${id}`,
    }));
  });

  app.post('/admin/people/:id/offboard', session, adminBodyLimit, csrf, async (c) => {
    const id = c.req.param('id');
    if (!ctx.people) return noPerson(c, c.get('session').csrf);
    const result = await ctx.people.service.offboard(id, { actor: c.get('session').actor, via: 'admin' });
    if (!result.found) return noPerson(c, c.get('session').csrf);
    return c.redirect(`/admin/people/${encodeURIComponent(id)}?offboarded=${result.revokedGrantIds.length}`, 303);
  });

  app.post('/admin/people/:id/reinstate', session, adminBodyLimit, csrf, async (c) => {
    const id = c.req.param('id');
    if (!ctx.people || !await store.people.get(id)) return noPerson(c, c.get('session').csrf);
    await ctx.people.service.reinstate(id, c.get('session').actor);
    return c.redirect(`/admin/people/${encodeURIComponent(id)}?reinstated=1`, 303);
  });

  return app;
}
