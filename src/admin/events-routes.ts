/**
 * Admin events page (filter by type, server, time; paging) and its JSON Lines export. Events hold ids,
 * fingerprints and reasons only (docs/invariants.md #1), so exporting them leaks no token.
 * @see https://jsonlines.org/
 */
import { Hono } from 'hono';
import type { EventRecord, Store } from '../store/types.js';
import type { AdminContext } from './admin-context.js';
import type { FormEnv } from './csrf.js';
import { adminPage, parseOrInvalidPage } from './page.js';
import { parseEventFilter, parsePage, type EventQueryFilter } from './filters.js';
import { EVENT_TYPES } from '../events/event-types.js';
import { EventsPage } from '../../views/admin/events.js';

const EXPORT_BATCH = 500;

/** An event as the API and the export write it: snake_case, epoch seconds plus an ISO time. */
export function eventJson(e: EventRecord) {
  return {
    id: e.id,
    at: e.at,
    time: new Date(e.at * 1000).toISOString(),
    type: e.type,
    outcome: e.outcome,
    grant_id: e.grantId,
    client_id: e.clientId,
    server: e.server,
    subject: e.subject,
    person_id: e.personId ?? null,
    detail: e.detail,
  };
}

/**
 * Every event matching the filter, oldest first, one JSON object per line, streamed in batches through the
 * store's id cursor (so rows appended meanwhile are neither skipped nor repeated).
 */
export function jsonLinesExport(store: Store, filter: EventQueryFilter, now: number): Response {
  const encoder = new TextEncoder();
  let afterId = 0;
  let done = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (done) return;
      const batch = await store.events.scan(filter, afterId, EXPORT_BATCH);
      if (batch.length > 0) {
        afterId = batch[batch.length - 1]!.id;
        controller.enqueue(encoder.encode(batch.map((e) => `${JSON.stringify(eventJson(e))}\n`).join('')));
      }
      if (batch.length < EXPORT_BATCH) {
        done = true;
        controller.close();
      }
    },
  });
  const stamp = new Date(now * 1000).toISOString().replace(/[-:]/g, '').slice(0, 15);
  return new Response(body, {
    status: 200,
    headers: {
      'Content-Type': 'application/jsonl; charset=utf-8',
      'Content-Disposition': `attachment; filename="keyhole-events-${stamp}Z.jsonl"`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    },
  });
}

export function eventsRoutes(ctx: AdminContext): Hono<FormEnv> {
  const app = new Hono<FormEnv>();
  const session = ctx.requireSession;
  const { store } = ctx;

  app.get('/admin/events', session, async (c) => {
    const token = c.get('session').csrf;
    const query = new URL(c.req.url).searchParams;
    const parsed = parseOrInvalidPage(c, token, () => ({ filter: parseEventFilter(query), page: parsePage(query, ctx.pageSize) }));
    if (parsed instanceof Response) return parsed;
    const { filter, page } = parsed;
    const total = await store.events.count(filter);
    const events = await store.events.list({ ...filter, limit: page.limit, offset: page.offset });
    return adminPage(c, (nonce) =>
      EventsPage({ nonce, csrf: token, events, filter, eventTypes: EVENT_TYPES, serverNames: ctx.serverNames, page: page.page, pageSize: page.limit, total }),
    );
  });

  app.get('/admin/events/export', session, (c) => {
    const filter = parseOrInvalidPage(c, c.get('session').csrf, () => parseEventFilter(new URL(c.req.url).searchParams));
    if (filter instanceof Response) return filter;
    return jsonLinesExport(store, filter, ctx.clock());
  });

  return app;
}
