/**
 * keyhole's own consent page, shown before every upstream redirect (confused-deputy defence).
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#confused-deputy-problem
 */
import { Layout } from './layout.js';

export interface ConsentScope {
  name: string;
  description: string;
}

export interface ConsentPageProps {
  nonce: string;
  pendingId: string;
  csrf: string;
  clientName: string | null;
  clientId: string;
  clientKind: 'dcr' | 'cimd' | 'static';
  redirectHost: string;
  redirectIsLoopback: boolean;
  serverName: string;
  resource: string;
  upstreamHost: string;
  scopes: ConsentScope[];
  /** Scopes the grant already has (step-up): shown as already granted. */
  alreadyGranted: string[];
  /** With organization sign-in (`identity`): who is signing in. Absent: keyhole does not know the person. */
  signedInAs?: { name: string | null; email: string | null } | undefined;
  /** With organization sign-in: where the person sees and revokes their own access (`/account`). */
  accountUrl?: string | undefined;
}

/** "Alice Doe (alice@acme.example)", or whichever of the two is known. */
export function personLabel(p: { name: string | null; email: string | null }): string {
  if (p.name && p.email) return `${p.name} (${p.email})`;
  return p.name ?? p.email ?? 'an unnamed person';
}

function KindBadge(p: { kind: ConsentPageProps['clientKind']; clientId: string }) {
  if (p.kind === 'cimd') return <span class="badge">verified domain {new URL(p.clientId).host}</span>;
  if (p.kind === 'static') return <span class="badge">pre-registered</span>;
  return <span class="badge warn">unverified</span>;
}

export function ConsentPage(p: ConsentPageProps) {
  const name = p.clientName ?? 'An unnamed application';
  return (
    // same-origin (header and meta alike): the consent POST must carry keyhole's Origin, which POST /consent checks.
    <Layout title="Authorize access" nonce={p.nonce} referrer="same-origin">
      <div class="card">
        <h1>
          Allow <strong data-testid="client-name">{name}</strong> to use <strong>{p.serverName}</strong>?
        </h1>
        {p.signedInAs ? (
          <p data-testid="signed-in-as">
            Signed in as <strong>{personLabel(p.signedInAs)}</strong>
          </p>
        ) : null}
        <dl>
          <dt>Application</dt>
          <dd>
            {name}
            <KindBadge kind={p.clientKind} clientId={p.clientId} />
          </dd>
          <dt>Sends you back to</dt>
          <dd data-testid="redirect-host">
            <code>{p.redirectHost}</code>
            {p.redirectIsLoopback ? <div class="muted warn">This is an application on your own computer. Any local program can claim this name: continue only if you just started it.</div> : null}
          </dd>
          <dt>MCP server</dt>
          <dd>
            <code>{p.resource}</code>
          </dd>
          <dt>Signs you in at</dt>
          <dd>
            <code>{p.upstreamHost}</code>
          </dd>
        </dl>
        <p>It will be able to:</p>
        <ul class="scopes">
          {p.scopes.map((s) => (
            <li>
              <code>{s.name}</code> — {s.description}
              {p.alreadyGranted.includes(s.name) ? <span class="badge">already granted</span> : null}
            </li>
          ))}
        </ul>
        <form method="post" action="/consent">
          <input type="hidden" name="pending" value={p.pendingId} />
          <input type="hidden" name="csrf" value={p.csrf} />
          <div class="actions">
            <button class="primary" type="submit" name="decision" value="approve">
              Approve
            </button>
            <button type="submit" name="decision" value="deny">
              Deny
            </button>
          </div>
        </form>
        <p class="muted" data-testid="revoke-hint">
          After you approve, you sign in at {p.upstreamHost}.{' '}
          {p.accountUrl ? (
            <a href={p.accountUrl}>You can revoke this access at any time</a>
          ) : (
            <a href="/account">To revoke this access later, ask your keyhole administrator</a>
          )}
          .
        </p>
      </div>
    </Layout>
  );
}
