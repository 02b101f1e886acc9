/** Every registered client with its grant counts and last use; block and delete (each with a confirmation). */
import { AdminLayout } from './admin-layout.js';
import { ClientCell, Pager, Time } from './components.js';
import type { ClientView } from '../../src/admin/client-view.js';

export interface ClientsPageProps {
  nonce: string;
  csrf: string;
  clients: ClientView[];
  page: number;
  pageSize: number;
  total: number;
  notice?: string | undefined;
}

export function ClientsPage(p: ClientsPageProps) {
  return (
    <AdminLayout title="Clients" nonce={p.nonce} csrf={p.csrf} active="clients">
      <h1>Clients</h1>
      {p.notice ? (
        <p class="notice" role="status">
          {p.notice}
        </p>
      ) : null}
      <div class="table-wrap">
        <table class="responsive" data-testid="clients-table">
          <caption>
            {p.total} registered client{p.total === 1 ? '' : 's'}
          </caption>
          <thead>
            <tr>
              <th scope="col">Client</th>
              <th scope="col">Registered</th>
              <th scope="col">Grants</th>
              <th scope="col">Last used</th>
              <th scope="col">Status</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {p.clients.length === 0 ? (
              <tr>
                <td colspan={6} class="muted">
                  No clients registered yet.
                </td>
              </tr>
            ) : null}
            {p.clients.map((c) => {
              const q = `client_id=${encodeURIComponent(c.clientId)}`;
              return (
                <tr data-client-id={c.clientId}>
                  <td data-label="Client">
                    <ClientCell client={c} link={false} />
                  </td>
                  <td data-label="Registered">
                    <Time at={c.createdAt} />
                  </td>
                  <td data-label="Grants">
                    <a href={`/admin/grants?${q}`} data-testid="grant-count">
                      {c.activeGrantCount} active / {c.grantCount} total
                    </a>
                  </td>
                  <td data-label="Last used">
                    <Time at={c.lastUsedAt} />
                  </td>
                  <td data-label="Status">
                    {c.blockedAt !== null ? (
                      <span class="danger-text">
                        blocked <Time at={c.blockedAt} />
                      </span>
                    ) : (
                      <span class="ok">allowed</span>
                    )}
                  </td>
                  <td data-label="Actions">
                    <div class="actions">
                      {c.blockedAt === null ? (
                        <a class="button" href={`/admin/clients/block?${q}`} aria-label={`Block client ${c.clientId}`}>
                          Block…
                        </a>
                      ) : null}
                      <a class="button" href={`/admin/clients/delete?${q}`} aria-label={`Delete client ${c.clientId}`}>
                        Delete…
                      </a>
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <Pager basePath="/admin/clients" params={{}} page={p.page} pageSize={p.pageSize} total={p.total} label="clients" />
    </AdminLayout>
  );
}
