/** Registered clients (filtered by kind and last use, one page at a time) with grant counts and last use; block and delete. */
import { AdminLayout } from './admin-layout.js';
import { ClientCell, FilterActions, Notice, Pager, SelectField, TableBody, Time } from './components.js';
import type { ClientView } from './view-models.js';
import { CLIENT_KINDS, CLIENT_USE, clientFilterParams, type ClientQueryFilter } from './view-models.js';

export interface ClientsPageProps {
  nonce: string;
  csrf: string;
  clients: ClientView[];
  filter: ClientQueryFilter;
  page: number;
  pageSize: number;
  total: number;
  notice?: string | undefined;
}

export function ClientsPage(p: ClientsPageProps) {
  return (
    <AdminLayout title="Clients" nonce={p.nonce} csrf={p.csrf} active="clients">
      <h1>Clients</h1>
      <Notice text={p.notice} />
      <section class="card" aria-labelledby="client-filter-heading">
        <h2 id="client-filter-heading" class="sr-only">
          Filter clients
        </h2>
        <form method="get" action="/admin/clients" class="filters">
          <SelectField id="f-kind" name="kind" label="Kind" anyLabel="Any kind" options={CLIENT_KINDS} selected={p.filter.kind} />
          <div class="field">
            <label for="f-unused">Unused for at least (days)</label>
            <input id="f-unused" name="unused_days" type="number" min="1" max="36500" value={p.filter.unusedDays === undefined ? '' : String(p.filter.unusedDays)} />
          </div>
          <SelectField id="f-used" name="used" label="Ever used" anyLabel="Either" options={CLIENT_USE} selected={p.filter.used} />
          <FilterActions clearHref="/admin/clients" />
        </form>
        <p class="muted small">
          Used = a completed authorization or a token issued or refreshed. Dynamically registered clients never used within a day, or unused for the
          configured number of days, are deleted automatically.
        </p>
      </section>
      <div class="table-wrap">
        <table class="responsive" data-testid="clients-table">
          <caption>
            {p.total} {Object.values(clientFilterParams(p.filter)).some((v) => v !== undefined) ? 'matching' : 'registered'} client{p.total === 1 ? '' : 's'}
          </caption>
          <TableBody columns={['Client', 'Registered', 'Grants', 'Last used', 'Status', 'Actions']} empty={p.clients.length === 0 ? 'No clients.' : null}>
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
          </TableBody>
        </table>
      </div>
      <Pager basePath="/admin/clients" params={clientFilterParams(p.filter)} page={p.page} pageSize={p.pageSize} total={p.total} label="clients" />
    </AdminLayout>
  );
}
