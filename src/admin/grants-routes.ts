/**
 * Admin grant pages: the table (filters, paging), one grant with its timeline, revoke one, and bulk revoke by
 * user, client or server behind a confirmation page that shows how many grants it will end.
 */
import { Hono } from 'hono';
import type { AdminContext } from './admin-context.js';
import { adminBodyLimit, csrfProtect, type FormEnv } from './csrf.js';
import { adminMessage, adminPage, parseOrInvalidPage } from './page.js';
import { grantFilterParams, parseBulkFilter, parseGrantFilter, parsePage, toQuery, type BulkFilter } from './filters.js';
import { buildGrantViews } from './grant-view.js';
import { GrantsPage } from '../../views/admin/grants.js';
import { GrantDetailPage } from '../../views/admin/grant-detail.js';
import { ConfirmPage } from '../../views/admin/confirm.js';

/** Events shown on a grant's timeline; older ones are linked to the events page. */
export const TIMELINE_LIMIT = 200;
/** Calls shown on a grant's page (the rest on the Activity page). */
export const CALLS_LIMIT = 20;

function countNotice(value: string | undefined, what: (n: number) => string): string | undefined {
  return value !== undefined && /^\d{1,9}$/.test(value) ? what(Number(value)) : undefined;
}

function bulkTarget(f: BulkFilter): Array<[string, string]> {
  const t: Array<[string, string]> = [];
  if (f.subject) t.push(['User', f.subject]);
  if (f.clientId) t.push(['Client', f.clientId]);
  if (f.server) t.push(['Server', f.server]);
  return t;
}

export function grantsRoutes(ctx: AdminContext): Hono<FormEnv> {
  const app = new Hono<FormEnv>();
  const session = ctx.requireSession;
  const csrf = csrfProtect(ctx.config.publicUrl);
  const { store, actions } = ctx;

  app.get('/admin/grants', session, async (c) => {
    const token = c.get('session').csrf;
    const query = new URL(c.req.url).searchParams;
    const parsed = parseOrInvalidPage(c, token, () => ({ filter: parseGrantFilter(query), page: parsePage(query, ctx.pageSize) }));
    if (parsed instanceof Response) return parsed;
    const { filter, page } = parsed;
    const total = await store.grants.count(filter);
    const grants = await buildGrantViews(store, await store.grants.list({ ...filter, limit: page.limit, offset: page.offset }), ctx.clock());
    const bulk: BulkFilter = { subject: filter.subject, clientId: filter.clientId, server: filter.server };
    // A free-text search is never a bulk target: the bulk revocation names exact users, clients or servers.
    const hasBulk = Boolean(bulk.subject || bulk.clientId || bulk.server) && !filter.q;
    const notice = countNotice(query.get('revoked') ?? undefined, (n) => `Revoked ${n} grant${n === 1 ? '' : 's'}.`);
    const bulkCount = hasBulk ? await actions.countActive(bulk) : null;
    return adminPage(c, (nonce) =>
      GrantsPage({ nonce, csrf: token, grants, filter, serverNames: ctx.serverNames, page: page.page, pageSize: page.limit, total, bulkCount, notice }),
    );
  });

  // Registered before /admin/grants/:id so that "revoke" is never read as a grant id.
  app.get('/admin/grants/revoke', session, async (c) => {
    const token = c.get('session').csrf;
    const filter = parseOrInvalidPage(c, token, () => parseBulkFilter(new URL(c.req.url).searchParams));
    if (filter instanceof Response) return filter;
    const count = await actions.countActive(filter);
    return adminPage(c, (nonce) =>
      ConfirmPage({
        nonce,
        csrf: token,
        active: 'grants',
        title: 'Revoke grants in bulk',
        target: bulkTarget(filter),
        count,
        note: 'Each grant ends everywhere: keyhole tokens, stored upstream tokens (revoked at the upstream), open streams.',
        action: '/admin/grants/revoke',
        fields: Object.fromEntries(Object.entries(grantFilterParams(filter)).filter((e): e is [string, string] => e[1] !== undefined)),
        confirmLabel: 'Revoke these grants',
        cancelHref: `/admin/grants${toQuery(grantFilterParams(filter))}`,
      }),
    );
  });

  app.post('/admin/grants/revoke', session, adminBodyLimit, csrf, async (c) => {
    const token = c.get('session').csrf;
    const filter = parseOrInvalidPage(c, token, () => parseBulkFilter(c.get('form')));
    if (filter instanceof Response) return filter;
    const revoked = await actions.revokeMatching(filter, c.get('session').actor);
    return c.redirect(`/admin/grants${toQuery({ ...grantFilterParams(filter), revoked: revoked.length })}`, 303);
  });

  app.get('/admin/grants/:id', session, async (c) => {
    const token = c.get('session').csrf;
    const record = await store.grants.find(c.req.param('id'));
    if (!record) return adminMessage(c, 404, 'No such grant', 'There is no grant with this id.', token);
    const [grant] = await buildGrantViews(store, [record], ctx.clock());
    const newestFirst = await store.events.list({ grantId: record.id, limit: TIMELINE_LIMIT });
    const truncated = await store.events.count({ grantId: record.id }) > newestFirst.length;
    const revoked = new URL(c.req.url).searchParams.get('revoked');
    const notice = revoked === '1' ? 'The grant was revoked.' : revoked === '0' ? 'The grant was already revoked.' : undefined;
    // The grant's latest calls (issue 14), when there is an audit log.
    const calls = ctx.auditLog ? await ctx.auditLog.query({ grantId: record.id }, { limit: CALLS_LIMIT }) : undefined;
    return adminPage(c, (nonce) => GrantDetailPage({
      nonce, csrf: token, grant: grant!, events: newestFirst.reverse(), eventsTruncated: truncated, notice,
      calls: calls?.records, callsTruncated: calls?.nextCursor !== null && calls !== undefined,
    }));
  });

  app.post('/admin/grants/:id/revoke', session, adminBodyLimit, csrf, async (c) => {
    const id = c.req.param('id');
    const outcome = await actions.revokeGrant(id, c.get('session').actor);
    if (outcome === 'not_found') return adminMessage(c, 404, 'No such grant', 'There is no grant with this id.', c.get('session').csrf);
    return c.redirect(`/admin/grants/${encodeURIComponent(id)}?revoked=${outcome === 'revoked' ? 1 : 0}`, 303);
  });

  return app;
}
