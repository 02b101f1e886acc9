/** The People page (issue 13 §3, §5): each person, their grants across servers and clients, last activity; search. */
import { AdminLayout } from './admin-layout.js';
import { FilterActions, Notice, Pager, SelectField, TableBody, Time } from './components.js';
import type { PersonQueryFilter, PersonView } from './view-models.js';

export interface PeoplePageProps {
  nonce: string;
  csrf: string;
  people: PersonView[];
  filter: PersonQueryFilter;
  page: number;
  pageSize: number;
  total: number;
  notice?: string | undefined;
}

export function PersonStatus(p: { person: PersonView['person'] }) {
  const x = p.person;
  if (x.status === 'active') return <span class="badge ok" data-testid="person-status">active</span>;
  return (
    <span class="badge danger-text" data-testid="person-status" title={`by ${x.offboardedBy ?? '?'} via ${x.offboardedVia ?? '?'}`}>
      offboarded ({x.offboardedVia ?? '?'})
    </span>
  );
}

export function PeoplePage(p: PeoplePageProps) {
  const f = p.filter;
  return (
    <AdminLayout title="People" nonce={p.nonce} csrf={p.csrf} active="people">
      <h1>People</h1>
      <Notice text={p.notice} />
      <section class="card" aria-labelledby="people-filter-heading">
        <h2 id="people-filter-heading" class="sr-only">
          Search people
        </h2>
        <form method="get" action="/admin/people" class="filters" role="search">
          <div class="field">
            <label for="p-q">Search</label>
            <input id="p-q" name="q" type="search" value={f.q ?? ''} placeholder="name, email, upstream account, client, server" />
          </div>
          <SelectField id="p-status" name="status" label="Status" anyLabel="Any status" options={['active', 'offboarded']} selected={f.status} />
          <FilterActions clearHref="/admin/people" />
        </form>
      </section>
      <div class="table-wrap">
        <table class="responsive" data-testid="people-table">
          <caption>
            {p.total} {p.total === 1 ? 'person' : 'people'}
          </caption>
          <TableBody columns={['Person', 'Groups', 'Active grants', 'Servers', 'Clients', 'Last activity', 'Status']} empty={p.people.length === 0 ? 'Nobody matches.' : null}>
            {p.people.map((v) => {
              const active = v.grants.filter((g) => g.status === 'active');
              return (
                <tr data-person-id={v.person.id}>
                  <td data-label="Person">
                    <a href={`/admin/people/${encodeURIComponent(v.person.id)}`}>{v.person.name ?? v.person.email ?? v.person.userName ?? v.person.id}</a>
                    {v.person.email ? <div class="muted small">{v.person.email}</div> : null}
                  </td>
                  <td data-label="Groups">{v.person.groups.join(', ') || '—'}</td>
                  <td data-label="Active grants" data-testid="active-grants">{active.length}</td>
                  <td data-label="Servers">{[...new Set(v.grants.map((g) => g.server))].join(', ') || '—'}</td>
                  <td data-label="Clients">{[...new Set(v.grants.map((g) => g.client.name ?? g.client.clientId))].join(', ') || '—'}</td>
                  <td data-label="Last activity">
                    <Time at={v.lastActivityAt} />
                  </td>
                  <td data-label="Status">
                    <PersonStatus person={v.person} />
                  </td>
                </tr>
              );
            })}
          </TableBody>
        </table>
      </div>
      <Pager basePath="/admin/people" params={{ q: f.q, status: f.status }} page={p.page} pageSize={p.pageSize} total={p.total} label="people" />
    </AdminLayout>
  );
}
