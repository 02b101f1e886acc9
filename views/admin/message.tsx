/** A short admin page for refusals and errors (400, 403, 404, 413, 429). */
import { AdminLayout } from './admin-layout.js';

export function AdminMessagePage(p: { nonce: string; title: string; message: string; csrf?: string | undefined; link?: { href: string; label: string } | undefined }) {
  return (
    <AdminLayout title={p.title} nonce={p.nonce} csrf={p.csrf}>
      <div class="card narrow" role="alert">
        <h1 class="danger-text">{p.title}</h1>
        <p>{p.message}</p>
        <p>
          {p.link ? (
            <a href={p.link.href}>{p.link.label}</a>
          ) : (
            <a href={p.csrf !== undefined ? '/admin/grants' : '/admin/login'}>{p.csrf !== undefined ? 'Back to grants' : 'Go to sign-in'}</a>
          )}
        </p>
      </div>
    </AdminLayout>
  );
}
