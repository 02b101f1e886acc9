/**
 * Admin client pages: registered clients, filtered by kind and last use and paginated in SQL, with grant counts and
 * last use; block (refuses future
 * authorizations and token requests, ends its grants) and delete, each behind a confirmation page.
 */
import { Hono, type Context } from 'hono';
import type { AdminContext } from './admin-context.js';
import { adminBodyLimit, csrfProtect, type FormEnv } from './csrf.js';
import { adminMessage, adminPage, parseOrInvalidPage } from './page.js';
import { parseClientFilter, parsePage } from './filters.js';
import { clientViewPage, storeClientFilter } from './client-view.js';
import { ClientsPage } from '../../views/admin/clients.js';
import { ConfirmPage } from '../../views/admin/confirm.js';

const ACTIONS = {
  block: {
    title: 'Block this client?',
    note: 'A blocked client can no longer get authorizations or tokens from keyhole.',
    confirm: 'Block client and revoke its grants',
  },
  delete: {
    title: 'Delete this client?',
    note: 'The registration is removed: the application must register again. Its grants stay in the history as revoked.',
    confirm: 'Delete client and revoke its grants',
  },
} as const;

function clientIdOf(value: string | null): string | undefined {
  return value !== null && value !== '' && value.length <= 2048 ? value : undefined;
}

export function clientsRoutes(ctx: AdminContext): Hono<FormEnv> {
  const app = new Hono<FormEnv>();
  const session = ctx.requireSession;
  const csrf = csrfProtect(ctx.config.publicUrl);
  const { store, actions } = ctx;

  app.get('/admin/clients', session, async (c) => {
    const token = c.get('session').csrf;
    const query = new URL(c.req.url).searchParams;
    const parsed = parseOrInvalidPage(c, token, () => ({ filter: parseClientFilter(query), page: parsePage(query, ctx.pageSize) }));
    if (parsed instanceof Response) return parsed;
    const { filter, page } = parsed;
    const { views, total } = await clientViewPage(store, storeClientFilter(filter, ctx.clock()), { limit: page.limit, offset: page.offset });
    const done = query.get('done');
    const revoked = query.get('revoked');
    const n = revoked !== null && /^\d{1,9}$/.test(revoked) ? Number(revoked) : undefined;
    const notice =
      (done === 'blocked' || done === 'deleted') && n !== undefined ? `Client ${done}; ${n} grant${n === 1 ? '' : 's'} revoked.` : undefined;
    return adminPage(c, (nonce) =>
      ClientsPage({ nonce, csrf: token, clients: views, filter, page: page.page, pageSize: page.limit, total, notice }),
    );
  });

  for (const action of ['block', 'delete'] as const) {
    const text = ACTIONS[action];
    app.get(`/admin/clients/${action}`, session, async (c) => {
      const token = c.get('session').csrf;
      const clientId = clientIdOf(new URL(c.req.url).searchParams.get('client_id'));
      const client = clientId === undefined ? undefined : await store.clients.find(clientId);
      if (!client) return adminMessage(c, 404, 'No such client', 'There is no registered client with this id.', token);
      const name = typeof client.metadata.client_name === 'string' ? client.metadata.client_name : '(unnamed)';
      const count = await actions.countActive({ clientId: client.clientId });
      return adminPage(c, (nonce) =>
        ConfirmPage({
          nonce,
          csrf: token,
          active: 'clients',
          title: text.title,
          target: [['Client', client.clientId], ['Name', name], ['Kind', client.kind]],
          count,
          note: text.note,
          action: `/admin/clients/${action}`,
          fields: { client_id: client.clientId },
          confirmLabel: text.confirm,
          cancelHref: '/admin/clients',
        }),
      );
    });

    app.post(`/admin/clients/${action}`, session, adminBodyLimit, csrf, async (c: Context<FormEnv>) => {
      const { csrf: token, actor } = c.get('session');
      const clientId = clientIdOf(c.get('form').get('client_id'));
      const result = clientId === undefined ? undefined : action === 'block' ? await actions.blockClient(clientId, actor) : await actions.deleteClient(clientId, actor);
      if (!result) return adminMessage(c, 404, 'No such client', 'There is no registered client with this id.', token);
      return c.redirect(`/admin/clients?done=${action === 'block' ? 'blocked' : 'deleted'}&revoked=${result.revoked.length}`, 303);
    });
  }

  return app;
}
