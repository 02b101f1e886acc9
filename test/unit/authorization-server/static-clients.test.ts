import { describe, expect, it } from 'vitest';
import { syncStaticClients } from '../../../src/authorization-server/static-clients.js';
import { staticClientSchema } from '../../../src/config/schema.js';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { EventRecorder } from '../../../src/events/recorder.js';
import { sha256Hex } from '../../../src/store/crypto/hash.js';

const client = (over: Record<string, unknown>) => staticClientSchema.parse({ clientName: 'CI', redirectUris: ['http://127.0.0.1/cb'], ...over });

describe('syncStaticClients', () => {
  it('upserts configured clients, keeps createdAt and blocks, deletes static clients that left the config, and leaves others alone', async () => {
    const store = openSqliteStore(':memory:');
    const events = new EventRecorder(store, () => undefined);
    await store.clients.create({ clientId: 'c_dynamic', kind: 'dcr', metadata: { redirect_uris: ['http://127.0.0.1/cb'] }, secretHash: null, createdAt: 1, blockedAt: null });

    await syncStaticClients(store, [client({ clientId: 'one', clientSecret: 'secret-one-0123456789' }), client({ clientId: 'two' })], events, 100);
    expect(await store.clients.find('one')).toMatchObject({ kind: 'static', secretHash: sha256Hex('secret-one-0123456789'), createdAt: 100 });
    expect((await store.clients.find('one'))!.metadata).toMatchObject({ token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code', 'refresh_token'] });
    expect(await store.clients.find('two')).toMatchObject({ kind: 'static', secretHash: null });
    expect((await store.clients.find('two'))!.metadata.token_endpoint_auth_method).toBe('none');
    await store.clients.block('one', 150);

    // Restart with a rotated secret (given as a hash) and "two" removed.
    const hash = sha256Hex('secret-rotated-0123456789');
    await syncStaticClients(store, [client({ clientId: 'one', clientName: 'CI renamed', clientSecretSha256: hash.toUpperCase() })], events, 200);
    expect(await store.clients.find('one')).toMatchObject({ secretHash: hash, createdAt: 100, blockedAt: 150 });
    expect((await store.clients.find('one'))!.metadata.client_name).toBe('CI renamed');
    expect(await store.clients.find('two')).toBeUndefined();
    expect(await store.clients.find('c_dynamic')).toBeDefined();
    expect((await store.events.list({ type: 'client.registered' })).map((e) => e.clientId).sort()).toEqual(['one', 'two']);
  });
});
