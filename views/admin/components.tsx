/** Small pieces shared by the admin pages. Text only: nothing here builds HTML from strings. */
import type { Child } from 'hono/jsx';
import type { ClientKind } from '../../src/store/types.js';
import type { ClientSummary, UpstreamTokenState } from './view-models.js';

/** `2025-01-31 12:00:00 UTC` in a <time>; a dash for null. */
export function Time(p: { at: number | null | undefined }) {
  if (p.at === null || p.at === undefined) return <span class="muted">—</span>;
  const iso = new Date(p.at * 1000).toISOString();
  return <time datetime={iso}>{`${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`}</time>;
}

export function KindBadge(p: { kind: ClientKind | null }) {
  if (p.kind === null) return <span class="badge warn">deleted</span>;
  const label = p.kind === 'dcr' ? 'dynamic (dcr)' : p.kind === 'cimd' ? 'metadata document (cimd)' : 'pre-registered (static)';
  return <span class="badge">{label}</span>;
}

/** The client's name as text (untrusted: escaped by JSX), its kind and redirect hosts. */
export function ClientCell(p: { client: ClientSummary; link?: boolean }) {
  const c = p.client;
  return (
    <div>
      <span data-testid="client-name">{c.name ?? 'unnamed client'}</span> <KindBadge kind={c.kind} />
      {c.blockedAt !== null ? <span class="badge danger-text"> blocked</span> : null}
      <div class="muted small">
        {c.redirectHosts.length > 0 ? <>redirects to {c.redirectHosts.join(', ')}</> : null}
      </div>
      <div class="muted small">
        {p.link === false ? <code>{c.clientId}</code> : <a href={`/admin/grants?client_id=${encodeURIComponent(c.clientId)}`}><code>{c.clientId}</code></a>}
      </div>
    </div>
  );
}

export function UpstreamStatus(p: { state: UpstreamTokenState }) {
  const s = p.state;
  switch (s.state) {
    case 'revoked':
      return <span class="danger-text">revoked</span>;
    case 'missing':
      return <span class="warn">no upstream token</span>;
    case 'refresh_failing':
      return (
        <span class="warn">
          refresh failing since <Time at={s.since} />
        </span>
      );
    case 'expired':
      return (
        <span class={s.refreshable ? 'muted' : 'warn'}>
          expired <Time at={s.validUntil} />
          {s.refreshable ? ' (refreshes on next use)' : ' (no refresh token)'}
        </span>
      );
    case 'valid':
      return s.validUntil === null ? (
        <span class="ok">valid (no expiry given)</span>
      ) : (
        <span class="ok">
          valid until <Time at={s.validUntil} />
        </span>
      );
  }
}

export function StatusBadge(p: { status: 'active' | 'revoked'; reason?: string | null }) {
  return p.status === 'active' ? (
    <span class="badge ok">active</span>
  ) : (
    <span class="badge danger-text" title={p.reason ?? undefined}>
      revoked{p.reason ? ` (${p.reason})` : ''}
    </span>
  );
}

/** An admin table's column headers and body: `children` are the rows; `empty`, when not null, is the row shown when there are none. */
export function TableBody(p: { columns: readonly string[]; empty: string | null; children?: Child }) {
  return (
    <>
      <thead>
        <tr>
          {p.columns.map((c) => (
            <th scope="col">{c}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {p.empty !== null ? (
          <tr>
            <td colspan={p.columns.length} class="muted">
              {p.empty}
            </td>
          </tr>
        ) : null}
        {p.children}
      </tbody>
    </>
  );
}

/** The page's one-line status after an action ("Revoked 3 grants."); nothing when there is none. */
export function Notice(p: { text: string | undefined }) {
  return p.text ? (
    <p class="notice" role="status">
      {p.text}
    </p>
  ) : null;
}

/** A filter form's buttons: submit, clear (back to `clearHref`, no filters), and any further links. */
export function FilterActions(p: { clearHref: string; children?: Child }) {
  return (
    <div class="actions">
      <button type="submit" class="primary">
        Filter
      </button>
      <a class="button" href={p.clearHref}>
        Clear
      </a>
      {p.children}
    </div>
  );
}

/** Previous / next links that keep the current filters. */
export function Pager(p: { basePath: string; params: Record<string, string | number | undefined>; page: number; pageSize: number; total: number; label: string }) {
  const pages = Math.max(1, Math.ceil(p.total / p.pageSize));
  const href = (page: number) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(p.params)) if (v !== undefined && v !== '') q.set(k, String(v));
    if (page > 1) q.set('page', String(page));
    const s = q.toString();
    return s ? `${p.basePath}?${s}` : p.basePath;
  };
  return (
    <nav class="pager" aria-label={`${p.label} pages`}>
      {p.page > 1 ? <a href={href(p.page - 1)} rel="prev">← Previous</a> : <span class="muted">← Previous</span>}
      <span>
        Page {p.page} of {pages} · {p.total} {p.total === 1 ? p.label.replace(/s$/, '') : p.label}
      </span>
      {p.page < pages ? <a href={href(p.page + 1)} rel="next">Next →</a> : <span class="muted">Next →</span>}
    </nav>
  );
}

/** A POST form with the session's CSRF token and hidden fields; one submit button. */
export function PostButton(p: { action: string; csrf: string; label: string; ariaLabel?: string; danger?: boolean; fields?: Record<string, string> }) {
  return (
    <form method="post" action={p.action} class="inline">
      <input type="hidden" name="csrf" value={p.csrf} />
      {Object.entries(p.fields ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button type="submit" class={p.danger ? 'danger' : undefined} aria-label={p.ariaLabel}>
        {p.label}
      </button>
    </form>
  );
}

/** An event's detail (ids, fingerprints, reasons) as key/value pairs; values that are not strings as JSON. */
export function EventDetail(p: { detail: Record<string, unknown> }) {
  const entries = Object.entries(p.detail);
  if (entries.length === 0) return null;
  return (
    <dl class="detail">
      {entries.map(([k, v]) => (
        <div>
          <dt>{k}</dt>
          <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A labelled filter <select> whose first option ("Any …") clears the filter. */
export function SelectField(p: { id: string; name: string; label: string; anyLabel: string; options: readonly string[]; selected: string | undefined }) {
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <select id={p.id} name={p.name}>
        <option value="">{p.anyLabel}</option>
        {p.options.map((o) => (
          <option value={o} selected={p.selected === o}>
            {o}
          </option>
        ))}
      </select>
    </div>
  );
}
