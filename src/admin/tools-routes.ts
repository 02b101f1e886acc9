/**
 * The admin Tools page (`/admin/tools?server=…`, signed-in admins): a server's listed tools, per-tool calls,
 * errors and latency over the last hour and day (audit log), its last failures, and its tool-list changes
 * (`tools.changed` events).
 */
import { Hono } from 'hono';
import type { AdminContext } from './admin-context.js';
import type { FormEnv } from './csrf.js';
import { adminMessage, adminPage } from './page.js';
import { ToolsPage } from '../../views/admin/tools.js';

const HOUR_MS = 3_600_000;
const FAILURE_OUTCOMES = ['error', 'upstream_unavailable', 'timeout'] as const;

export function toolsRoutes(ctx: AdminContext, nowMs: () => number = Date.now): Hono<FormEnv> {
  const app = new Hono<FormEnv>();
  const session = ctx.requireSession;

  app.get('/admin/tools', session, async (c) => {
    const csrf = c.get('session').csrf;
    const server = c.req.query('server') || ctx.serverNames[0]!;
    if (!ctx.serverNames.includes(server)) return adminMessage(c, 404, 'No such server', 'There is no configured server with this name.', csrf);
    const now = nowMs();
    const log = ctx.auditLog;
    const [hour, day, failures] = log
      ? await Promise.all([
        log.toolStats(server, now - HOUR_MS),
        log.toolStats(server, now - 24 * HOUR_MS),
        Promise.all(FAILURE_OUTCOMES.map((outcome) => log.query({ server, outcome }, { limit: 10 }))).then((pages) =>
          pages.flatMap((pg) => pg.records).sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0)).slice(0, 10)),
      ])
      : [[], [], []];
    const drift = await ctx.store.events.list({ type: 'tools.changed', server, limit: 20 });
    return adminPage(c, (nonce) => ToolsPage({ nonce, csrf, server, serverNames: ctx.serverNames, listed: ctx.listedTools?.(server), hour, day, failures, drift }));
  });
  return app;
}
