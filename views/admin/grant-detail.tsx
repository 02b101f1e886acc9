/** One grant: its fields, its upstream token status and its lifecycle events as a timeline. */
import { AdminLayout } from './admin-layout.js';
import { ClientCell, EventDetail, Notice, PostButton, StatusBadge, TableBody, Time, UpstreamStatus } from './components.js';
import { UserCell } from './grants.js';
import type { GrantView } from './view-models.js';
import type { EventRecord } from '../../src/store/types.js';
import type { AuditLogRecord } from '../../src/store/repositories/audit-log.js';

export interface GrantDetailProps {
  nonce: string;
  csrf: string;
  grant: GrantView;
  /** Oldest first. */
  events: EventRecord[];
  /** More events exist than shown. */
  eventsTruncated: boolean;
  notice?: string | undefined;
  /** The grant's latest calls (audit records, newest first); absent: no audit log. */
  calls?: AuditLogRecord[] | undefined;
  /** More calls exist than shown. */
  callsTruncated?: boolean;
}

export function Timeline(p: { events: EventRecord[] }) {
  if (p.events.length === 0) return <p class="muted">No events recorded.</p>;
  return (
    <ol class="timeline" data-testid="timeline">
      {p.events.map((e) => (
        <li class={e.outcome} data-event-type={e.type}>
          <div>
            <Time at={e.at} /> · <strong>{e.type}</strong>
            {e.outcome === 'failure' ? <span class="badge danger-text">failure</span> : null}
          </div>
          <EventDetail detail={e.detail} />
        </li>
      ))}
    </ol>
  );
}

export function GrantDetailPage(p: GrantDetailProps) {
  const g = p.grant;
  return (
    <AdminLayout title={`Grant ${g.id}`} nonce={p.nonce} csrf={p.csrf} active="grants">
      <p>
        <a href="/admin/grants">← All grants</a>
      </p>
      <h1>
        Grant <code>{g.id}</code>
      </h1>
      <Notice text={p.notice} />
      <section class="card" aria-labelledby="fields-heading">
        <h2 id="fields-heading" class="sr-only">
          Grant fields
        </h2>
        <dl class="fields" data-testid="grant-fields">
          <dt>Status</dt>
          <dd data-testid="grant-status">
            <StatusBadge status={g.status} reason={g.statusReason} />
            {g.revokedAt !== null ? (
              <>
                {' '}
                at <Time at={g.revokedAt} />
              </>
            ) : null}
          </dd>
          <dt>User</dt>
          <dd>
            <UserCell subject={g.subject} name={g.subjectName} />
          </dd>
          <dt>Client</dt>
          <dd>
            <ClientCell client={g.client} />
          </dd>
          <dt>Server</dt>
          <dd>{g.server}</dd>
          <dt>Scopes</dt>
          <dd>
            <code>{g.scopes.join(' ') || '—'}</code>
          </dd>
          <dt>Created</dt>
          <dd>
            <Time at={g.createdAt} />
          </dd>
          <dt>Last used</dt>
          <dd>
            <Time at={g.lastUsedAt} />
          </dd>
          <dt>Upstream token</dt>
          <dd data-testid="upstream-status">
            <UpstreamStatus state={g.upstream} />
          </dd>
        </dl>
        {g.status === 'active' ? (
          <div class="actions">
            <p>
              Revoking ends this grant everywhere: keyhole's tokens, the stored upstream tokens (revoked at the upstream too), and any open stream.
            </p>
            <PostButton action={`/admin/grants/${encodeURIComponent(g.id)}/revoke`} csrf={p.csrf} label="Revoke grant" ariaLabel={`Revoke grant ${g.id}`} danger />
          </div>
        ) : null}
        <p class="actions small">
          <a href={`/admin/grants/revoke?subject=${encodeURIComponent(g.subject)}`}>Revoke all grants of this user…</a>
          <a href={`/admin/grants/revoke?client_id=${encodeURIComponent(g.client.clientId)}`}>Revoke all grants of this client…</a>
        </p>
      </section>
      {p.calls ? (
        <section aria-labelledby="calls-heading">
          <h2 id="calls-heading">Recent calls</h2>
          {p.calls.length === 0 ? <p class="muted">No calls recorded.</p> : (
            <table data-testid="grant-calls">
              <TableBody columns={['Time', 'Method', 'Tool', 'Outcome', 'Status']} empty={null}>
                {p.calls.map((r) => (
                  <tr data-audit-id={r.id}>
                    <td><time datetime={r.at}>{`${r.at.slice(0, 10)} ${r.at.slice(11, 19)} UTC`}</time></td>
                    <td>{r.method ?? '—'}</td>
                    <td>{r.tool ?? '—'}</td>
                    <td>{r.outcome}{r.denialReason ? ` (${r.denialReason})` : ''}</td>
                    <td>{r.httpStatus}</td>
                  </tr>
                ))}
              </TableBody>
            </table>
          )}
          {p.callsTruncated ? <p class="muted"><a href={`/admin/activity?grant_id=${encodeURIComponent(g.id)}`}>See all calls of this grant</a>.</p> : null}
        </section>
      ) : null}
      <section aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Lifecycle events</h2>
        <Timeline events={p.events} />
        {p.eventsTruncated ? (
          <p class="muted">
            Older events are not shown: <a href={`/admin/events?grant_id=${encodeURIComponent(g.id)}`}>see them all</a>.
          </p>
        ) : null}
      </section>
    </AdminLayout>
  );
}
