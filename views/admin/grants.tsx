/** The grants table: who has access to what, through which client; filters, paging, revoke and bulk revoke. */
import { AdminLayout } from './admin-layout.js';
import { FilterActions, Notice, Pager, PostButton, SelectField, Time } from './components.js';
import { GrantTable, grantColumns, type GrantColumn } from './grant-table.js';
import type { GrantView } from './view-models.js';
import type { GrantQueryFilter } from './view-models.js';

export interface GrantsPageProps {
  nonce: string;
  csrf: string;
  grants: GrantView[];
  filter: GrantQueryFilter;
  serverNames: string[];
  page: number;
  pageSize: number;
  total: number;
  /** Active grants a bulk revocation with this filter would end (when the filter names a user, client or server). */
  bulkCount: number | null;
  notice?: string | undefined;
}

export function UserCell(p: { subject: string; name: string | null }) {
  return (
    <div>
      {p.name ? <div data-testid="subject-name">{p.name}</div> : null}
      <a href={`/admin/grants?subject=${encodeURIComponent(p.subject)}`}>
        <code>{p.subject}</code>
      </a>
    </div>
  );
}

/** The person (when the grant has one) above the upstream account. */
const user: GrantColumn = {
  label: 'User',
  cell: (g) => (
    <>
      {g.person ? (
        <div>
          <a href={`/admin/people/${encodeURIComponent(g.person.id)}`} data-testid="grant-person">{g.person.name ?? g.person.email ?? g.person.id}</a>
        </div>
      ) : null}
      <UserCell subject={g.subject} name={g.subjectName} />
    </>
  ),
};

const server: GrantColumn = { label: 'Server', cell: (g) => <a href={`/admin/grants?server=${encodeURIComponent(g.server)}`}>{g.server}</a> };

const created: GrantColumn = { label: 'Created', cell: (g) => <Time at={g.createdAt} /> };

const actions = (csrf: string): GrantColumn => ({
  label: 'Actions',
  cell: (g) => (
    <div class="actions">
      <a href={`/admin/grants/${encodeURIComponent(g.id)}`} aria-label={`Details of grant ${g.id}`}>
        Details
      </a>
      {g.status === 'active' ? (
        <PostButton action={`/admin/grants/${encodeURIComponent(g.id)}/revoke`} csrf={csrf} label="Revoke" ariaLabel={`Revoke grant ${g.id}`} danger />
      ) : null}
    </div>
  ),
});

export function GrantsPage(p: GrantsPageProps) {
  const f = p.filter;
  const bulkQuery = new URLSearchParams();
  if (f.subject) bulkQuery.set('subject', f.subject);
  if (f.clientId) bulkQuery.set('client_id', f.clientId);
  if (f.server) bulkQuery.set('server', f.server);
  return (
    <AdminLayout title="Grants" nonce={p.nonce} csrf={p.csrf} active="grants">
      <h1>Grants</h1>
      <Notice text={p.notice} />
      <section class="card" aria-labelledby="filter-heading">
        <h2 id="filter-heading" class="sr-only">
          Filter grants
        </h2>
        <form method="get" action="/admin/grants" class="filters">
          <div class="field">
            <label for="f-q">Search</label>
            <input id="f-q" name="q" type="search" value={f.q ?? ''} placeholder="person, email, upstream account, client, server" />
          </div>
          <div class="field">
            <label for="f-subject">User (upstream subject)</label>
            <input id="f-subject" name="subject" value={f.subject ?? ''} />
          </div>
          <div class="field">
            <label for="f-client">Client ID</label>
            <input id="f-client" name="client_id" value={f.clientId ?? ''} />
          </div>
          <SelectField id="f-server" name="server" label="Server" anyLabel="Any server" options={p.serverNames} selected={f.server} />
          <SelectField id="f-status" name="status" label="Status" anyLabel="Any status" options={['active', 'revoked']} selected={f.status} />
          <FilterActions clearHref="/admin/grants" />
        </form>
        {p.bulkCount !== null ? (
          <p class="actions">
            <a class="button" href={`/admin/grants/revoke?${bulkQuery.toString()}`} data-testid="bulk-revoke-link">
              Revoke all {p.bulkCount} active grants of this {describeFilter(f)}…
            </a>
          </p>
        ) : (
          <p class="muted small">To revoke in bulk, filter by user, client or server first.</p>
        )}
      </section>

      <GrantTable
        testId="grants-table"
        caption={`${p.total} grant${p.total === 1 ? '' : 's'}`}
        grants={p.grants}
        columns={[user, grantColumns.client, server, grantColumns.scopes, created, grantColumns.lastUsed, grantColumns.upstream, grantColumns.status, actions(p.csrf)]}
        empty="No grants match."
      />
      <Pager
        basePath="/admin/grants"
        params={{ q: f.q, subject: f.subject, client_id: f.clientId, server: f.server, status: f.status }}
        page={p.page}
        pageSize={p.pageSize}
        total={p.total}
        label="grants"
      />
    </AdminLayout>
  );
}

export function describeFilter(f: { subject?: string | undefined; clientId?: string | undefined; server?: string | undefined }): string {
  const parts: string[] = [];
  if (f.subject) parts.push(`user ${f.subject}`);
  if (f.clientId) parts.push(`client ${f.clientId}`);
  if (f.server) parts.push(`server ${f.server}`);
  return parts.join(' and ');
}
