/**
 * The admin Activity page (`/admin/activity`, signed-in admins): the audit records with the API's filters
 * (audit-routes.ts), newest first, 50 a page with the store's cursor; `/admin/activity/export` streams the same
 * selection as JSON Lines.
 */
import { Hono } from 'hono';
import type { AdminContext } from './admin-context.js';
import type { FormEnv } from './csrf.js';
import { adminPage, parseOrInvalidPage } from './page.js';
import { auditJsonLines, parseAuditFilter } from './audit-routes.js';
import { AUDIT_OUTCOMES } from '../audit/audit-record.js';
import { decodeCursor } from '../store/repositories/audit-log.js';
import { AdminInputError } from './filters.js';
import { ActivityPage } from '../../views/admin/activity.js';

export function activityRoutes(ctx: AdminContext): Hono<FormEnv> {
  const app = new Hono<FormEnv>();
  const session = ctx.requireSession;
  const { auditLog } = ctx;

  app.get('/admin/activity', session, async (c) => {
    const csrf = c.get('session').csrf;
    const query = new URL(c.req.url).searchParams;
    const parsed = parseOrInvalidPage(c, csrf, () => {
      const cursor = query.get('cursor') || null;
      if (cursor !== null) {
        try { decodeCursor(cursor); } catch { throw new AdminInputError('the page link is not valid'); }
      }
      return { filter: parseAuditFilter(query), cursor };
    });
    if (parsed instanceof Response) return parsed;
    const page = auditLog ? await auditLog.query(parsed.filter, { limit: ctx.pageSize, cursor: parsed.cursor }) : { records: [], nextCursor: null };
    return adminPage(c, (nonce) =>
      ActivityPage({ nonce, csrf, records: page.records, filter: parsed.filter, serverNames: ctx.serverNames, outcomes: AUDIT_OUTCOMES, nextCursor: page.nextCursor }),
    );
  });

  app.get('/admin/activity/export', session, (c) => {
    const filter = parseOrInvalidPage(c, c.get('session').csrf, () => parseAuditFilter(new URL(c.req.url).searchParams));
    if (filter instanceof Response) return filter;
    if (!auditLog) return c.notFound();
    return auditJsonLines(auditLog, filter, Date.now());
  });
  return app;
}
