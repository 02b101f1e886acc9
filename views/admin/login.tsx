/** Admin sign-in: one labelled password field for the admin token. */
import { AdminLayout } from './admin-layout.js';

export function LoginPage(p: { nonce: string; error?: string }) {
  return (
    <AdminLayout title="Sign in" nonce={p.nonce}>
      <div class="card narrow">
        <h1>Sign in to keyhole admin</h1>
        {p.error ? (
          <p class="error" role="alert">
            {p.error}
          </p>
        ) : null}
        <form method="post" action="/admin/login">
          <p>
            <label for="admin-token">Admin token</label>
            <input id="admin-token" name="token" type="password" autocomplete="current-password" required autofocus />
          </p>
          <button type="submit" class="primary">
            Sign in
          </button>
        </form>
        <p class="muted">The admin token is set in keyhole's configuration (admin.token).</p>
      </div>
    </AdminLayout>
  );
}
