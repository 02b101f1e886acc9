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
        <p class="muted">After you approve, you sign in at {p.upstreamHost}. You can revoke this access at any time.</p>
      </div>
    </Layout>
  );
}
