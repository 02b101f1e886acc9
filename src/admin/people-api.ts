/**
 * The admin JSON API for people (issue 13 §3, §5), mounted inside api-routes.ts (bearer admin token):
 *
 *   GET  /admin/api/people                    ?q&status&limit&offset: each person with their grants across every
 *                                             server and client and their last activity (paginated in SQL)
 *   GET  /admin/api/people/:id                one person, their grants and their events timeline (newest first)
 *   POST /admin/api/people/:id/offboard       PeopleService.offboard (via admin, actor admin:token): every grant
 *                                             revoked everywhere, sign-ins blocked until reinstated; idempotent
 *   POST /admin/api/people/:id/reinstate      sign-ins allowed again (revoked grants stay revoked)
 *
 * An unknown id is 404 `{"error":"not_found"}`.
 */
import type { Context, Hono } from 'hono';
import type { AdminContext } from './admin-context.js';
import { AdminInputError, parsePage, parsePersonFilter } from './filters.js';
import { eventJson } from './events-routes.js';
import { TOKEN_ACTOR } from './session.js';
import { buildPersonView, buildPersonViews, personJson, personTimeline } from './people-view.js';


function notFound(c: Context) {
  return c.json({ error: 'not_found', error_description: 'no such person' }, 404);
}

export function mountPeopleApi(app: Hono, ctx: AdminContext): void {
  const { store } = ctx;
  const people = ctx.people?.service;

  app.get('/admin/api/people', async (c) => {
    const query = new URL(c.req.url).searchParams;
    let filter;
    let page;
    try {
      filter = parsePersonFilter(query);
      page = parsePage(query, 50);
    } catch (e) {
      if (e instanceof AdminInputError) return c.json({ error: 'invalid_request', error_description: e.message }, 400);
      throw e;
    }
    const rows = await store.people.list({ ...filter, limit: page.limit, offset: page.offset });
    const views = await buildPersonViews(store, rows, ctx.clock());
    return c.json({ people: views.map(personJson), total: await store.people.count(filter), limit: page.limit, offset: page.offset });
  });

  app.get('/admin/api/people/:id', async (c) => {
    const person = await store.people.get(c.req.param('id'));
    if (!person) return notFound(c);
    const view = await buildPersonView(store, person, ctx.clock());
    const timeline = await personTimeline(store, view);
    return c.json({ person: personJson(view), events: timeline.events.map(eventJson), events_truncated: timeline.truncated });
  });

  app.post('/admin/api/people/:id/offboard', async (c) => {
    if (!people) return notFound(c);
    const id = c.req.param('id');
    const result = await people.offboard(id, { actor: TOKEN_ACTOR, via: 'admin' });
    if (!result.found) return notFound(c);
    const view = await buildPersonView(store, (await store.people.get(id))!, ctx.clock());
    return c.json({
      offboarded: true, already_offboarded: !result.changed, revoked_grants: result.revokedGrantIds.length, grant_ids: result.revokedGrantIds,
      person: personJson(view),
    });
  });

  app.post('/admin/api/people/:id/reinstate', async (c) => {
    if (!people) return notFound(c);
    const id = c.req.param('id');
    if (!await store.people.get(id)) return notFound(c);
    const changed = await people.reinstate(id, TOKEN_ACTOR);
    const view = await buildPersonView(store, (await store.people.get(id))!, ctx.clock());
    return c.json({ reinstated: changed, already_active: !changed, person: personJson(view) });
  });
}
