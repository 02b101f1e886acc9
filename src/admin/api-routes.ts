/**
 * The admin JSON API: the same powers as the pages, for scripts. Bearer admin token (api-auth.ts); JSON in
 * and out; times are epoch seconds; no response ever carries a token value (ids and fingerprints only).
 *
 *   GET    /admin/api/grants              ?subject&client_id&server&status&limit&offset
 *   GET    /admin/api/grants/:id          the grant and its events (oldest first)
 *   DELETE /admin/api/grants/:id          revoke one
 *   POST   /admin/api/grants/revoke       {"filter":{"subject"|"client_id"|"server":…},"dry_run"?:true}
 *   GET    /admin/api/clients             ?kind&unused_days&used&limit&offset (paginated in SQL)
 *   POST   /admin/api/clients/:id/block   block and revoke its grants
 *   DELETE /admin/api/clients/:id         revoke its grants and delete it
 *   GET    /admin/api/events              ?type&server&grant_id&client_id&since&until&limit&offset
 *   GET    /admin/api/events/export       the same filters, as JSON Lines
 *   GET    /admin/api/audit, /admin/api/audit/export   audit records (audit-routes.ts)
 *   GET    /admin/api/people[/:id], POST /admin/api/people/:id/offboard|reinstate   people (people-api.ts)
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AdminContext } from './admin-context.js';
import { adminBearer } from './api-auth.js';
import { TOKEN_ACTOR } from './session.js';
import { AdminInputError, parseBulkFilter, parseClientFilter, parseEventFilter, parseGrantFilter, parsePage, type BulkFilter } from './filters.js';
import { buildGrantViews, grantJson } from './grant-view.js';
import { clientViewJson, clientViewPage, storeClientFilter } from './client-view.js';
import { eventJson, jsonLinesExport } from './events-routes.js';
import { TIMELINE_LIMIT } from './grants-routes.js';
import { mediaType } from '../http/media-type.js';
import { parseJsonObject } from '../http/json-object.js';
import { mountAuditApi } from './audit-routes.js';
import { mountPeopleApi } from './people-api.js';

const API_MAX_BODY = 16 * 1024;

function invalid(c: Context, message: string) {
  return c.json({ error: 'invalid_request', error_description: message }, 400);
}
function notFound(c: Context, what: string) {
  return c.json({ error: 'not_found', error_description: `no such ${what}` }, 404);
}

/** Runs `fn`, answering 400 for input errors. */
function guarded(c: Context, fn: () => Response | Promise<Response>): Response | Promise<Response> {
  try {
    const out = fn();
    return out instanceof Promise ? out.catch((e: unknown) => (e instanceof AdminInputError ? invalid(c, e.message) : Promise.reject(e))) : out;
  } catch (e) {
    if (e instanceof AdminInputError) return invalid(c, e.message);
    throw e;
  }
}

async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const type = mediaType(c.req.header('content-type'));
  if (type !== 'application/json') throw new AdminInputError('the body must be application/json');
  const body = parseJsonObject(await c.req.text());
  if (!body.ok) throw new AdminInputError(body.reason === 'not-json' ? 'the body is not valid JSON' : 'the body must be a JSON object');
  return body.value;
}

export function apiRoutes(ctx: AdminContext, token: string): Hono {
  const app = new Hono();
  const { store, actions } = ctx;
  app.use('/admin/api/*', adminBearer({ token, limiter: ctx.limiter, events: ctx.events }));
  app.use(
    '/admin/api/*',
    bodyLimit({ maxSize: API_MAX_BODY, onError: (c) => c.json({ error: 'invalid_request', error_description: `the body is larger than ${API_MAX_BODY} bytes` }, 413) }),
  );

  mountAuditApi(app, ctx.auditLog);
  mountPeopleApi(app, ctx);

  app.get('/admin/api/grants', (c) =>
    guarded(c, async () => {
      const query = new URL(c.req.url).searchParams;
      const filter = parseGrantFilter(query);
      const { limit, offset } = parsePage(query, 50);
      const grants = await buildGrantViews(store, await store.grants.list({ ...filter, limit, offset }), ctx.clock());
      return c.json({ grants: grants.map(grantJson), total: await store.grants.count(filter), limit, offset });
    }),
  );

  app.post('/admin/api/grants/revoke', (c) =>
    guarded(c, async () => {
      const body = await readJsonObject(c);
      for (const k of Object.keys(body)) if (k !== 'filter' && k !== 'dry_run') throw new AdminInputError(`unknown field ${JSON.stringify(k.slice(0, 40))}: use filter and dry_run`);
      if (!body.filter || typeof body.filter !== 'object' || Array.isArray(body.filter)) throw new AdminInputError('filter must be an object with subject, client_id and/or server');
      if (body.dry_run !== undefined && typeof body.dry_run !== 'boolean') throw new AdminInputError('dry_run must be a boolean');
      const filter: BulkFilter = parseBulkFilter(body.filter as Record<string, unknown>);
      const echo = { subject: filter.subject, client_id: filter.clientId, server: filter.server };
      if (body.dry_run === true) {
        const ids = await actions.activeGrantIds(filter);
        return c.json({ dry_run: true, filter: echo, count: ids.length, grant_ids: ids });
      }
      const revoked = await actions.revokeMatching(filter, TOKEN_ACTOR);
      return c.json({ filter: echo, revoked: revoked.length, grant_ids: revoked });
    }),
  );

  app.get('/admin/api/grants/:id', async (c) => {
    const record = await store.grants.find(c.req.param('id'));
    if (!record) return notFound(c, 'grant');
    const [view] = await buildGrantViews(store, [record], ctx.clock());
    const events = (await store.events.list({ grantId: record.id, limit: TIMELINE_LIMIT })).reverse();
    return c.json({ grant: grantJson(view!), events: events.map(eventJson), events_total: await store.events.count({ grantId: record.id }) });
  });

  app.delete('/admin/api/grants/:id', async (c) => {
    const id = c.req.param('id');
    const outcome = await actions.revokeGrant(id, TOKEN_ACTOR);
    if (outcome === 'not_found') return notFound(c, 'grant');
    const [view] = await buildGrantViews(store, [(await store.grants.find(id))!], ctx.clock());
    return c.json({ revoked: outcome === 'revoked', grant: grantJson(view!) });
  });

  app.get('/admin/api/clients', (c) =>
    guarded(c, async () => {
      const query = new URL(c.req.url).searchParams;
      const filter = parseClientFilter(query);
      const { limit, offset } = parsePage(query, 50);
      const { views, total } = await clientViewPage(store, storeClientFilter(filter, ctx.clock()), { limit, offset });
      return c.json({ clients: views.map(clientViewJson), total, limit, offset });
    }),
  );

  app.post('/admin/api/clients/:id/block', async (c) => {
    const clientId = c.req.param('id');
    const result = await actions.blockClient(clientId, TOKEN_ACTOR);
    if (!result) return notFound(c, 'client');
    return c.json({ client_id: clientId, blocked: true, already_blocked: result.alreadyBlocked, revoked_grants: result.revoked.length, grant_ids: result.revoked });
  });

  app.delete('/admin/api/clients/:id', async (c) => {
    const clientId = c.req.param('id');
    const result = await actions.deleteClient(clientId, TOKEN_ACTOR);
    if (!result) return notFound(c, 'client');
    return c.json({ client_id: clientId, deleted: true, revoked_grants: result.revoked.length, grant_ids: result.revoked });
  });

  app.get('/admin/api/events', (c) =>
    guarded(c, async () => {
      const query = new URL(c.req.url).searchParams;
      const filter = parseEventFilter(query);
      const { limit, offset } = parsePage(query, 50);
      return c.json({ events: (await store.events.list({ ...filter, limit, offset })).map(eventJson), total: await store.events.count(filter), limit, offset });
    }),
  );

  app.get('/admin/api/events/export', (c) => guarded(c, () => jsonLinesExport(store, parseEventFilter(new URL(c.req.url).searchParams), ctx.clock())));

  app.all('/admin/api/*', (c) => c.json({ error: 'not_found', error_description: 'no such admin API endpoint' }, 404));
  return app;
}
