/** One person (issue 13 §5): their grants (clients, servers, scopes, last use), the events timeline, offboard/reinstate. */
import { AdminLayout } from './admin-layout.js';
import { Notice, PostButton, Time } from './components.js';
import { GrantTable, grantColumns, type GrantColumn } from './grant-table.js';
import { Timeline } from './grant-detail.js';
import { PersonStatus } from './people.js';
import type { PersonView } from './view-models.js';
import type { EventRecord } from '../../src/store/types.js';

export interface PersonPageProps {
  nonce: string;
  csrf: string;
  view: PersonView;
  /** Newest first. */
  events: EventRecord[];
  eventsTruncated: boolean;
  notice?: string | undefined;
}

/** The upstream account, linked to the grant's detail page. */
const upstreamAccount: GrantColumn = {
  label: 'Upstream account',
  cell: (g) => (
    <a href={`/admin/grants/${encodeURIComponent(g.id)}`}>
      <code>{g.subject}</code>
    </a>
  ),
};

export function PersonPage(p: PersonPageProps) {
  const x = p.view.person;
  const id = encodeURIComponent(x.id);
  const active = p.view.grants.filter((g) => g.status === 'active');
  return (
    <AdminLayout title={`Person ${x.name ?? x.email ?? x.id}`} nonce={p.nonce} csrf={p.csrf} active="people">
      <p>
        <a href="/admin/people">← All people</a>
      </p>
      <h1 data-testid="person-name">{x.name ?? x.email ?? x.userName ?? x.id}</h1>
      <Notice text={p.notice} />
      <section class="card" aria-labelledby="person-fields-heading">
        <h2 id="person-fields-heading" class="sr-only">
          Person
        </h2>
        <dl class="fields" data-testid="person-fields">
          <dt>Status</dt>
          <dd>
            <PersonStatus person={x} />
            {x.offboardedAt !== null ? (
              <span class="muted small">
                {' '}
                <Time at={x.offboardedAt} /> by <code>{x.offboardedBy}</code>
              </span>
            ) : null}
          </dd>
          <dt>Id</dt>
          <dd>
            <code>{x.id}</code>
          </dd>
          <dt>Email</dt>
          <dd>{x.email ?? '—'}</dd>
          <dt>Groups</dt>
          <dd>{x.groups.join(', ') || '—'}</dd>
          <dt>IdP subject</dt>
          <dd>{x.sub ? <code>{x.sub}</code> : '—'}</dd>
          <dt>SCIM userName</dt>
          <dd>{x.userName ?? '—'}</dd>
          <dt>Last activity</dt>
          <dd>
            <Time at={p.view.lastActivityAt} />
          </dd>
        </dl>
        <div class="actions">
          {x.status === 'active' ? (
            <a class="button danger" href={`/admin/people/${id}/offboard`} data-testid="offboard-link">
              Offboard…
            </a>
          ) : (
            <PostButton action={`/admin/people/${id}/reinstate`} csrf={p.csrf} label="Reinstate" ariaLabel={`Reinstate ${x.id}`} />
          )}
        </div>
      </section>
      <h2>Grants ({active.length} active)</h2>
      <GrantTable
        testId="person-grants"
        grants={p.view.grants}
        columns={[grantColumns.client, { label: 'Server', cell: (g) => g.server }, upstreamAccount, grantColumns.scopes, grantColumns.lastUsed, grantColumns.upstream, grantColumns.status]}
        empty="No grants."
      />
      <h2>Timeline</h2>
      {p.eventsTruncated ? <p class="muted small">Only the latest events are shown.</p> : null}
      <Timeline events={p.events} />
    </AdminLayout>
  );
}
