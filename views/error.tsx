/** An error page for failures that must not redirect (unknown client, bad redirect_uri, expired transaction). */
import { Layout } from './layout.js';

export function ErrorPage(p: { nonce: string; title: string; error: string; description: string }) {
  return (
    <Layout title={p.title} nonce={p.nonce}>
      <div class="card" role="alert">
        <h1 class="danger">{p.title}</h1>
        <p>{p.description}</p>
        <p class="muted">
          Error code: <code data-testid="error-code">{p.error}</code>
        </p>
        <p class="muted">Close this window and start again from your application.</p>
      </div>
    </Layout>
  );
}
