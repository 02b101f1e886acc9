/**
 * Activity: the audit records (one per MCP request), newest first, filtered by person, user, client, server,
 * tool, outcome and time, paged with the store's cursor. Every value is text escaped by JSX (tool names and
 * subjects come from clients and upstreams); no JavaScript.
 */
import { AdminLayout } from './admin-layout.js';
import { FilterActions, SelectField, TableBody } from './components.js';
import type { AuditFilter, AuditLogRecord } from '../../src/store/repositories/audit-log.js';

export interface ActivityPageProps {
  nonce: string;
  csrf: string;
  records: AuditLogRecord[];
  filter: AuditFilter;
  serverNames: string[];
  outcomes: readonly string[];
  nextCursor: string | null;
}

/** The filter as query parameters (for the export link and the next page). */
export function activityParams(f: AuditFilter): URLSearchParams {
  const q = new URLSearchParams();
  const set = (k: string, v: string | number | undefined) => { if (v !== undefined) q.set(k, String(v)); };
  set('person', f.person); set('subject', f.subject); set('client_id', f.clientId); set('server', f.server); set('tool', f.tool);
  set('outcome', f.outcome); set('grant_id', f.grantId);
  if (f.since !== undefined) set('since', Math.floor(f.since / 1000));
  if (f.until !== undefined) set('until', Math.floor(f.until / 1000) - 1);
  return q;
}

const minuteValue = (ms: number | undefined, end: boolean) => (ms === undefined ? '' : new Date(end ? ms - 1000 : ms).toISOString().slice(0, 16));

function TextField(p: { id: string; name: string; label: string; value: string | undefined }) {
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <input id={p.id} name={p.name} type="text" value={p.value ?? ''} />
    </div>
  );
}

export function ActivityPage(p: ActivityPageProps) {
  const f = p.filter;
  const q = activityParams(f);
  const next = new URLSearchParams(q);
  if (p.nextCursor) next.set('cursor', p.nextCursor);
  return (
    <AdminLayout title="Activity" nonce={p.nonce} csrf={p.csrf} active="activity">
      <h1>Activity</h1>
      <section class="card" aria-labelledby="filter-heading">
        <h2 id="filter-heading" class="sr-only">Filter activity</h2>
        <form method="get" action="/admin/activity" class="filters">
          <TextField id="f-person" name="person" label="Person" value={f.person} />
          <TextField id="f-subject" name="subject" label="User" value={f.subject} />
          <TextField id="f-client" name="client_id" label="Client" value={f.clientId} />
          <SelectField id="f-server" name="server" label="Server" anyLabel="Any server" options={p.serverNames} selected={f.server} />
          <TextField id="f-tool" name="tool" label="Tool" value={f.tool} />
          <SelectField id="f-outcome" name="outcome" label="Outcome" anyLabel="Any outcome" options={p.outcomes} selected={f.outcome} />
          <div class="field">
            <label for="f-since">From (UTC)</label>
            <input id="f-since" name="since" type="datetime-local" value={minuteValue(f.since, false)} />
          </div>
          <div class="field">
            <label for="f-until">Until (UTC)</label>
            <input id="f-until" name="until" type="datetime-local" value={minuteValue(f.until, true)} />
          </div>
          {f.grantId ? <input type="hidden" name="grant_id" value={f.grantId} /> : null}
          <FilterActions clearHref="/admin/activity">
            <a class="button" href={`/admin/activity/export${q.size ? `?${q}` : ''}`} download="keyhole-audit.jsonl">Export JSON Lines</a>
          </FilterActions>
        </form>
      </section>
      <div class="table-wrap">
        <table class="responsive" data-testid="activity-table">
          <caption>Calls, newest first</caption>
          <TableBody columns={['Time', 'User', 'Client', 'Server', 'Method', 'Tool', 'Outcome', 'Status', 'Duration']} empty={p.records.length === 0 ? 'No calls match.' : null}>
            {p.records.map((r) => (
              <tr data-audit-id={r.id}>
                <td data-label="Time"><time datetime={r.at}>{`${r.at.slice(0, 10)} ${r.at.slice(11, 19)} UTC`}</time></td>
                <td data-label="User">{r.subject ? <code>{r.subject}</code> : '—'}</td>
                <td data-label="Client">{r.clientId ? <code>{r.clientId}</code> : '—'}</td>
                <td data-label="Server">{r.server}</td>
                <td data-label="Method">{r.method ?? '—'}</td>
                <td data-label="Tool" data-testid="tool">{r.tool ?? '—'}</td>
                <td data-label="Outcome">
                  <span class={r.outcome === 'ok' ? 'ok' : 'danger-text'}>{r.outcome}</span>
                  {r.denialReason ? <span class="muted small"> ({r.denialReason})</span> : null}
                </td>
                <td data-label="Status">{r.httpStatus}{r.rpcErrorCode !== null ? ` / ${r.rpcErrorCode}` : ''}</td>
                <td data-label="Duration">{`${r.durationMsTotal} ms`}</td>
              </tr>
            ))}
          </TableBody>
        </table>
      </div>
      {p.nextCursor ? (
        <nav aria-label="Pages of calls"><a class="button" rel="next" href={`/admin/activity?${next}`}>Older calls</a></nav>
      ) : null}
    </AdminLayout>
  );
}
