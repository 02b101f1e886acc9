/**
 * Pre-registered clients from the config (`clients: [...]`), e.g. CI agents. At startup each one is upserted into
 * the store as kind 'static'; its secret is kept only as SHA-256 hex (`secretHash`), compared in client-auth.ts
 * (client_secret_basic / client_secret_post). A static row whose id left the config is deleted, so it can no longer
 * authenticate (its grants stay as history; their refresh then fails with invalid_client).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2 (client registration by other means)
 */
import type { StaticClientConfig } from '../config/schema.js';
import type { ClientRecord, Store } from '../store/types.js';
import type { EventRecorder } from '../events/recorder.js';
import { sha256Hex } from '../store/crypto/hash.js';

export function staticClientRecord(c: StaticClientConfig, createdAt: number): ClientRecord {
  const secretHash = c.clientSecretSha256?.toLowerCase() ?? (c.clientSecret !== undefined ? sha256Hex(c.clientSecret) : null);
  return {
    clientId: c.clientId,
    kind: 'static',
    metadata: {
      client_name: c.clientName,
      redirect_uris: c.redirectUris,
      grant_types: c.grantTypes,
      response_types: ['code'],
      token_endpoint_auth_method: secretHash ? 'client_secret_basic' : 'none',
    },
    secretHash,
    createdAt,
    blockedAt: null,
  };
}

/** Makes the store's static clients match the config. */
export async function syncStaticClients(store: Store, clients: readonly StaticClientConfig[], events: EventRecorder, now: number): Promise<void> {
  const configured = new Set(clients.map((c) => c.clientId));
  const registered = await store.transaction(async (tx) => {
    for (const existing of await tx.clients.list()) {
      if (existing.kind === 'static' && !configured.has(existing.clientId)) await tx.clients.delete(existing.clientId);
    }
    const created: StaticClientConfig[] = [];
    for (const c of clients) {
      const existing = await tx.clients.find(c.clientId);
      await tx.clients.upsert(staticClientRecord(c, existing?.createdAt ?? now));
      if (!existing) created.push(c);
    }
    return created;
  });
  // After the commit: the recorder writes through the store, which waits while the transaction is open.
  for (const c of registered) {
    await events.record({ type: 'client.registered', clientId: c.clientId, detail: { kind: 'static', client_name: c.clientName, auth_method: c.clientSecret || c.clientSecretSha256 ? 'client_secret_basic' : 'none' } });
  }
}
