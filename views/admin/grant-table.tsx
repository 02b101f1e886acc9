/**
 * The grants table shared by the Grants page (grants.tsx) and a person's page (person.tsx): one row per grant, the
 * columns each page chooses, and the cells both pages show the same way.
 */
import type { Child } from 'hono/jsx';
import { ClientCell, StatusBadge, TableBody, Time, UpstreamStatus } from './components.js';
import type { GrantView } from './view-models.js';

/** One column: its header (also the cell's `data-label`) and how a grant fills it. */
export interface GrantColumn {
  label: string;
  cell: (g: GrantView) => Child;
}

/** Cells both pages render alike. */
export const grantColumns = {
  client: { label: 'Client', cell: (g) => <ClientCell client={g.client} /> },
  scopes: { label: 'Scopes', cell: (g) => <code>{g.scopes.join(' ') || '—'}</code> },
  lastUsed: { label: 'Last used', cell: (g) => <Time at={g.lastUsedAt} /> },
  upstream: { label: 'Upstream token', cell: (g) => <UpstreamStatus state={g.upstream} /> },
  status: { label: 'Status', cell: (g) => <StatusBadge status={g.status} reason={g.statusReason} /> },
} satisfies Record<string, GrantColumn>;

export function GrantTable(p: { testId: string; grants: GrantView[]; columns: readonly GrantColumn[]; empty: string; caption?: Child }) {
  return (
    <div class="table-wrap">
      <table class="responsive" data-testid={p.testId}>
        {p.caption !== undefined ? <caption>{p.caption}</caption> : null}
        <TableBody columns={p.columns.map((c) => c.label)} empty={p.grants.length === 0 ? p.empty : null}>
          {p.grants.map((g) => (
            <tr data-grant-id={g.id}>
              {p.columns.map((c) => (
                <td data-label={c.label}>{c.cell(g)}</td>
              ))}
            </tr>
          ))}
        </TableBody>
      </table>
    </div>
  );
}
