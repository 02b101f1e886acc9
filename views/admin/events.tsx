/** The lifecycle events: filter by type, server and time; page; export as JSON Lines. */
import { AdminLayout } from './admin-layout.js';
import { EventDetail, FilterActions, Pager, SelectField, TableBody, Time } from './components.js';
import type { EventRecord } from '../../src/store/types.js';
import type { EventQueryFilter } from './view-models.js';

export interface EventsPageProps {
  nonce: string;
  csrf: string;
  events: EventRecord[];
  filter: EventQueryFilter;
  eventTypes: readonly string[];
  serverNames: string[];
  page: number;
  pageSize: number;
  total: number;
}

/** `YYYY-MM-DDTHH:MM` (UTC) for a datetime-local input. */
function localValue(at: number | undefined): string {
  return at === undefined ? '' : new Date(at * 1000).toISOString().slice(0, 16);
}

export function EventsPage(p: EventsPageProps) {
  const f = p.filter;
  const params = { type: f.type, server: f.server, grant_id: f.grantId, client_id: f.clientId, since: f.since, until: f.until };
  const exportQuery = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) exportQuery.set(k, String(v));
  const q = exportQuery.toString();
  return (
    <AdminLayout title="Events" nonce={p.nonce} csrf={p.csrf} active="events">
      <h1>Events</h1>
      <section class="card" aria-labelledby="filter-heading">
        <h2 id="filter-heading" class="sr-only">
          Filter events
        </h2>
        <form method="get" action="/admin/events" class="filters">
          <SelectField id="f-type" name="type" label="Type" anyLabel="Any type" options={p.eventTypes} selected={f.type} />
          <SelectField id="f-server" name="server" label="Server" anyLabel="Any server" options={p.serverNames} selected={f.server} />
          <div class="field">
            <label for="f-since">From (UTC)</label>
            <input id="f-since" name="since" type="datetime-local" value={localValue(f.since)} />
          </div>
          <div class="field">
            <label for="f-until">Until (UTC)</label>
            <input id="f-until" name="until" type="datetime-local" value={localValue(f.until)} />
          </div>
          {f.grantId ? <input type="hidden" name="grant_id" value={f.grantId} /> : null}
          {f.clientId ? <input type="hidden" name="client_id" value={f.clientId} /> : null}
          <FilterActions clearHref="/admin/events">
            <a class="button" href={`/admin/events/export${q ? `?${q}` : ''}`} download="keyhole-events.jsonl">
              Export JSON Lines
            </a>
          </FilterActions>
        </form>
        {f.grantId || f.clientId ? (
          <p class="muted small">
            Showing events of {f.grantId ? <>grant <code>{f.grantId}</code></> : null}
            {f.grantId && f.clientId ? ' and ' : null}
            {f.clientId ? <>client <code>{f.clientId}</code></> : null}.
          </p>
        ) : null}
      </section>
      <div class="table-wrap">
        <table class="responsive" data-testid="events-table">
          <caption>
            {p.total} event{p.total === 1 ? '' : 's'}, newest first
          </caption>
          <TableBody columns={['Time', 'Type', 'Outcome', 'Grant', 'Client', 'Server', 'User', 'Detail']} empty={p.events.length === 0 ? 'No events match.' : null}>
            {p.events.map((e) => (
              <tr data-event-id={String(e.id)}>
                <td data-label="Time">
                  <Time at={e.at} />
                </td>
                <td data-label="Type">{e.type}</td>
                <td data-label="Outcome">{e.outcome === 'success' ? <span class="ok">success</span> : <span class="danger-text">failure</span>}</td>
                <td data-label="Grant">{e.grantId ? <a href={`/admin/grants/${encodeURIComponent(e.grantId)}`}><code>{e.grantId}</code></a> : '—'}</td>
                <td data-label="Client">{e.clientId ? <code>{e.clientId}</code> : '—'}</td>
                <td data-label="Server">{e.server ?? '—'}</td>
                <td data-label="User">{e.subject ? <code>{e.subject}</code> : '—'}</td>
                <td data-label="Detail">{Object.keys(e.detail).length > 0 ? <EventDetail detail={e.detail} /> : '—'}</td>
              </tr>
            ))}
          </TableBody>
        </table>
      </div>
      <Pager basePath="/admin/events" params={params} page={p.page} pageSize={p.pageSize} total={p.total} label="events" />
    </AdminLayout>
  );
}
