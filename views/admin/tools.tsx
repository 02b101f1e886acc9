/**
 * Tools of one server: what its upstream listed last (and when), per tool calls / errors / p50 / p95 over the last
 * hour and day with small server-rendered SVG bar charts, the last failures with their codes, and the tool-list
 * changes (drift) as a diff. Every name is text escaped by JSX (tool names come from upstreams); no JavaScript.
 */
import { AdminLayout } from './admin-layout.js';
import { SelectField, TableBody } from './components.js';
import type { AuditLogRecord, ToolStat } from '../../src/store/repositories/audit-log.js';
import type { EventRecord } from '../../src/store/types.js';

export interface ToolsPageProps {
  nonce: string;
  csrf: string;
  server: string;
  serverNames: string[];
  listed: { names: string[]; at: number } | undefined;
  hour: ToolStat[];
  day: ToolStat[];
  failures: AuditLogRecord[];
  /** `tools.changed` events, newest first. */
  drift: EventRecord[];
}

const iso = (ms: number) => new Date(ms).toISOString();
const stamp = (s: string) => `${s.slice(0, 10)} ${s.slice(11, 19)} UTC`;

/** Horizontal bars: calls (grey) with errors (red) over them, one row per tool, scaled to the busiest. */
export function CallsChart(p: { stats: ToolStat[]; label: string }) {
  const rows = p.stats.slice(0, 12);
  const max = Math.max(1, ...rows.map((s) => s.calls));
  const width = 320;
  const labels = 150; // the tool names, cut to 22 characters
  const row = 18;
  const bar = (n: number) => Math.round((n / max) * width);
  return (
    <svg role="img" aria-label={p.label} width={labels + width + 40} height={Math.max(1, rows.length) * row} viewBox={`0 0 ${labels + width + 40} ${Math.max(1, rows.length) * row}`} data-testid="calls-chart">
      <title>{p.label}</title>
      {rows.map((s, i) => (
        <g>
          <title>{`${s.tool}: ${s.calls} calls, ${s.errors} errors`}</title>
          <text x="0" y={i * row + row - 6} font-size="11">{s.tool.length > 22 ? `${s.tool.slice(0, 21)}…` : s.tool}</text>
          <rect x={labels} y={i * row + 2} width={Math.max(1, bar(s.calls))} height={row - 6} fill="#9aa4b2" />
          <rect x={labels} y={i * row + 2} width={bar(s.errors)} height={row - 6} fill="#c0392b" />
          <text x={labels + Math.max(1, bar(s.calls)) + 4} y={i * row + row - 6} font-size="11">{String(s.calls)}</text>
        </g>
      ))}
    </svg>
  );
}

function StatsTable(p: { stats: ToolStat[]; caption: string; testid: string }) {
  return (
    <table data-testid={p.testid}>
      <caption>{p.caption}</caption>
      <TableBody columns={['Tool', 'Calls', 'Errors', 'p50', 'p95']} empty={p.stats.length === 0 ? 'No calls.' : null}>
        {p.stats.map((s) => (
          <tr>
            <td data-label="Tool" data-testid="tool">{s.tool}</td>
            <td data-label="Calls">{String(s.calls)}</td>
            <td data-label="Errors">{String(s.errors)}</td>
            <td data-label="p50">{`${s.p50Ms} ms`}</td>
            <td data-label="p95">{`${s.p95Ms} ms`}</td>
          </tr>
        ))}
      </TableBody>
    </table>
  );
}

const names = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export function ToolsPage(p: ToolsPageProps) {
  return (
    <AdminLayout title={`Tools of ${p.server}`} nonce={p.nonce} csrf={p.csrf} active="tools">
      <h1>Tools of {p.server}</h1>
      <form method="get" action="/admin/tools" class="filters card">
        <SelectField id="f-server" name="server" label="Server" anyLabel="Choose a server" options={p.serverNames} selected={p.server} />
        <div class="actions"><button type="submit" class="primary">Show</button></div>
      </form>
      <section aria-labelledby="listed-heading">
        <h2 id="listed-heading">Listed tools</h2>
        {p.listed ? (
          <p data-testid="listed">
            {p.listed.names.length} tools, listed <time datetime={iso(p.listed.at)}>{stamp(iso(p.listed.at))}</time>: {p.listed.names.map((n, i) => <>{i > 0 ? ', ' : ''}<code>{n}</code></>)}
          </p>
        ) : <p class="muted">No tools/list answer seen since keyhole started.</p>}
      </section>
      <section aria-labelledby="hour-heading">
        <h2 id="hour-heading">Last hour</h2>
        <CallsChart stats={p.hour} label={`calls per tool on ${p.server}, last hour`} />
        <StatsTable stats={p.hour} caption="Calls in the last hour" testid="stats-hour" />
      </section>
      <section aria-labelledby="day-heading">
        <h2 id="day-heading">Last day</h2>
        <CallsChart stats={p.day} label={`calls per tool on ${p.server}, last day`} />
        <StatsTable stats={p.day} caption="Calls in the last day" testid="stats-day" />
      </section>
      <section aria-labelledby="failures-heading">
        <h2 id="failures-heading">Last failures</h2>
        <table data-testid="failures">
          <TableBody columns={['Time', 'Tool', 'Outcome', 'Status', 'Code']} empty={p.failures.length === 0 ? 'No failures.' : null}>
            {p.failures.map((r) => (
              <tr>
                <td data-label="Time"><time datetime={r.at}>{stamp(r.at)}</time></td>
                <td data-label="Tool">{r.tool ?? '—'}</td>
                <td data-label="Outcome">{r.outcome}{r.denialReason ? ` (${r.denialReason})` : ''}</td>
                <td data-label="Status">{String(r.httpStatus)}</td>
                <td data-label="Code">{r.rpcErrorCode === null ? '—' : String(r.rpcErrorCode)}</td>
              </tr>
            ))}
          </TableBody>
        </table>
      </section>
      <section aria-labelledby="drift-heading">
        <h2 id="drift-heading">Tool-list changes</h2>
        {p.drift.length === 0 ? <p class="muted">No changes seen.</p> : (
          <ul data-testid="drift">
            {p.drift.map((e) => (
              <li>
                <time datetime={iso(e.at * 1000)}>{stamp(iso(e.at * 1000))}</time>
                <pre class="diff">{[...names(e.detail.added).map((n) => `+ ${n}`), ...names(e.detail.removed).map((n) => `- ${n}`), ...names(e.detail.changed).map((n) => `~ ${n}`)].join('\n')}</pre>
              </li>
            ))}
          </ul>
        )}
      </section>
    </AdminLayout>
  );
}
