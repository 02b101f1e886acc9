/**
 * /account (issue 13 §6): a person sees and ends their own access. Every value is rendered through Hono JSX, which
 * escapes text and attributes (client names are untrusted). No scripts (strict CSP): the confirmation is a page.
 */
import type { Child } from 'hono/jsx';
import { Layout } from '../layout.js';

/** One of the person's grants, as /account shows it. */
export interface AccountGrant {
  id: string;
  clientName: string | null;
  clientId: string;
  server: string;
  serverName: string;
  scopes: string[];
  /** The upstream account: its display name and its id at the upstream. */
  subject: string;
  subjectName: string | null;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface AccountPerson {
  name: string | null;
  email: string | null;
}

function who(p: AccountPerson): string {
  if (p.name && p.email) return `${p.name} (${p.email})`;
  return p.name ?? p.email ?? 'an unnamed person';
}

/** `2025-01-31 12:00 UTC` in a <time>; "never" for null. */
function When(p: { at: number | null }) {
  if (p.at === null) return <span class="muted">never</span>;
  const iso = new Date(p.at * 1000).toISOString();
  return <time datetime={iso}>{`${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`}</time>;
}

const STYLE_EXTRA = `main{max-width:56rem}table{width:100%;border-collapse:collapse;margin:1rem 0}th,td{text-align:left;vertical-align:top;padding:.5rem;border-bottom:1px solid var(--line)}
th{font-size:.8rem;text-transform:uppercase;color:var(--muted)}td{overflow-wrap:anywhere}.notice{border-left:4px solid var(--accent);padding:.5rem 1rem;margin:0 0 1rem}
button.danger{background:var(--danger);border-color:var(--danger);color:#fff}a.button{display:inline-flex;white-space:nowrap;align-items:center;padding:.6rem 1.2rem;border:1px solid var(--line);border-radius:8px;color:var(--fg);text-decoration:none;min-height:44px}
@media (max-width:40rem){table,thead,tbody,tr,td{display:block}thead{display:none}td::before{content:attr(data-label);display:block;font-size:.8rem;color:var(--muted)}}`;

function AccountLayout(p: { title: string; nonce: string; children: Child }) {
  return (
    <Layout title={p.title} nonce={p.nonce} referrer="same-origin">
      <style nonce={p.nonce}>{STYLE_EXTRA}</style>
      {p.children}
    </Layout>
  );
}

function SignOut(p: { csrf: string }) {
  return (
    <form method="post" action="/account/logout">
      <input type="hidden" name="csrf" value={p.csrf} />
      <button type="submit">Sign out</button>
    </form>
  );
}

export function AccountPage(p: { nonce: string; csrf: string; person: AccountPerson; grants: AccountGrant[]; notice?: string | undefined }) {
  return (
    <AccountLayout title="Your access" nonce={p.nonce}>
      <div class="card">
        <h1>Your access</h1>
        <p data-testid="signed-in-as">
          Signed in as <strong>{who(p.person)}</strong>
        </p>
        {p.notice ? (
          <p class="notice" role="status" data-testid="notice">
            {p.notice}
          </p>
        ) : null}
        {p.grants.length === 0 ? (
          <p data-testid="no-grants">No application has access on your behalf.</p>
        ) : (
          <table data-testid="grants">
            <caption class="muted">Applications that can use servers on your behalf through keyhole</caption>
            <thead>
              <tr>
                <th scope="col">Application</th>
                <th scope="col">Server</th>
                <th scope="col">Scopes</th>
                <th scope="col">Upstream account</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="muted">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {p.grants.map((g) => (
                <tr data-grant-id={g.id}>
                  <td data-label="Application">
                    <span data-testid="client-name">{g.clientName ?? 'unnamed application'}</span>
                    <div class="muted">
                      <code>{g.clientId}</code>
                    </div>
                  </td>
                  <td data-label="Server">
                    {g.serverName}
                    {g.serverName !== g.server ? (
                      <div class="muted">
                        <code>{g.server}</code>
                      </div>
                    ) : null}
                  </td>
                  <td data-label="Scopes">
                    {g.scopes.map((s) => (
                      <code class="badge">{s}</code>
                    ))}
                  </td>
                  <td data-label="Upstream account">
                    {g.subjectName ?? g.subject}
                    {g.subjectName && g.subjectName !== g.subject ? (
                      <div class="muted">
                        <code>{g.subject}</code>
                      </div>
                    ) : null}
                  </td>
                  <td data-label="Last used">
                    <When at={g.lastUsedAt} />
                  </td>
                  <td>
                    <a class="button" href={`/account/grants/${encodeURIComponent(g.id)}`}>
                      Revoke…
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <div class="actions">
          <SignOut csrf={p.csrf} />
        </div>
      </div>
    </AccountLayout>
  );
}

/** The confirmation step of a revocation. */
export function ConfirmRevokePage(p: { nonce: string; csrf: string; grant: AccountGrant }) {
  const g = p.grant;
  return (
    <AccountLayout title="Revoke access" nonce={p.nonce}>
      <div class="card">
        <h1>
          Revoke <strong data-testid="client-name">{g.clientName ?? 'unnamed application'}</strong>'s access to {g.serverName}?
        </h1>
        <dl>
          <dt>Application</dt>
          <dd>
            <code>{g.clientId}</code>
          </dd>
          <dt>Server</dt>
          <dd>{g.serverName}</dd>
          <dt>Scopes</dt>
          <dd>{g.scopes.join(' ')}</dd>
          <dt>Upstream account</dt>
          <dd>{g.subjectName ?? g.subject}</dd>
          <dt>Last used</dt>
          <dd>
            <When at={g.lastUsedAt} />
          </dd>
        </dl>
        <p>
          The application loses access at once: its keyhole tokens stop working, the stored {g.serverName} tokens are revoked
          there, and open connections close. To use it again you would approve it again.
        </p>
        <form method="post" action="/account/revoke">
          <input type="hidden" name="csrf" value={p.csrf} />
          <input type="hidden" name="grant" value={g.id} />
          <div class="actions">
            <button type="submit" class="danger">
              Revoke access
            </button>
            <a class="button" href="/account">
              Cancel
            </a>
          </div>
        </form>
      </div>
    </AccountLayout>
  );
}

/** A short page: refusals, errors, signed out. */
export function AccountMessagePage(p: { nonce: string; title: string; message: string; link?: { href: string; label: string } | undefined; alert?: boolean }) {
  return (
    <AccountLayout title={p.title} nonce={p.nonce}>
      <div class="card" {...(p.alert ? { role: 'alert' } : {})}>
        <h1>{p.title}</h1>
        <p data-testid="message">{p.message}</p>
        {p.link ? (
          <p>
            <a href={p.link.href}>{p.link.label}</a>
          </p>
        ) : null}
      </div>
    </AccountLayout>
  );
}

/** Without organization sign-in, keyhole does not know who the person is: the admin manages access. */
export function ManagedByAdminPage(p: { nonce: string }) {
  return (
    <AccountLayout title="Your access" nonce={p.nonce}>
      <div class="card">
        <h1>Your access is managed by your keyhole administrator</h1>
        <p data-testid="managed-by-admin">
          This keyhole does not sign people in with your organization's account, so it cannot show you your own access. To see
          or revoke what an application can reach through keyhole, ask your keyhole administrator: they can revoke any access
          from keyhole's admin pages.
        </p>
        <p class="muted">An application can also end its own access by revoking its token (RFC 7009).</p>
      </div>
    </AccountLayout>
  );
}
