/** Confirmation step for actions that end several grants: bulk revoke, block a client, delete a client. */
import { AdminLayout, type AdminSection } from './admin-layout.js';

export interface ConfirmPageProps {
  nonce: string;
  csrf: string;
  active: AdminSection;
  title: string;
  /** What the action targets, e.g. [['Client', 'c_…']]: shown as a list. */
  target: Array<[string, string]>;
  /** Active grants the action will end. */
  count: number;
  /** Extra sentence about the action (e.g. that blocking refuses future authorizations). */
  note?: string;
  action: string;
  fields: Record<string, string>;
  confirmLabel: string;
  cancelHref: string;
}

export function ConfirmPage(p: ConfirmPageProps) {
  return (
    <AdminLayout title={p.title} nonce={p.nonce} csrf={p.csrf} active={p.active}>
      <div class="card narrow">
        <h1>{p.title}</h1>
        <dl class="fields">
          {p.target.map(([label, value]) => (
            <>
              <dt>{label}</dt>
              <dd>
                <code>{value}</code>
              </dd>
            </>
          ))}
        </dl>
        <p data-testid="confirm-count">
          This will end <strong>{p.count}</strong> active grant{p.count === 1 ? '' : 's'}.
        </p>
        {p.note ? <p>{p.note}</p> : null}
        <form method="post" action={p.action}>
          <input type="hidden" name="csrf" value={p.csrf} />
          {Object.entries(p.fields).map(([name, value]) => (
            <input type="hidden" name={name} value={value} />
          ))}
          <div class="actions">
            <button type="submit" class="danger">
              {p.confirmLabel}
            </button>
            <a class="button" href={p.cancelHref}>
              Cancel
            </a>
          </div>
        </form>
      </div>
    </AdminLayout>
  );
}
