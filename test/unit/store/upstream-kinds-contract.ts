/**
 * Store contract, upstream kinds part (issue 5): keyhole's registrations at upstream authorization servers,
 * identity-JWT signing keys, sealed secrets. Called from runStoreContract (store-contract.ts) for every store.
 */
import { describe, expect, it } from 'vitest';
import type { SigningKeyRecord, Store, UpstreamRegistration } from '../../../src/store/types.js';

const T0 = 1_700_000_000;

export function makeRegistration(over: Partial<UpstreamRegistration> = {}): UpstreamRegistration {
  return {
    server: 'demo',
    issuer: 'https://as.example.com',
    kind: 'dcr',
    clientId: 'upstream-client-1',
    clientSecret: 'eyJhbGciOiJkaXIifQ..iv.ct.tag',
    clientSecretExpiresAt: null,
    tokenEndpointAuthMethod: 'client_secret_basic',
    registrationAccessToken: 'eyJhbGciOiJkaXIifQ..iv2.ct2.tag2',
    registrationClientUri: 'https://as.example.com/reg/upstream-client-1',
    metadata: { client_name: 'keyhole (https://kh.example.com)', redirect_uris: ['https://kh.example.com/oauth/callback'], x: { y: [1] } },
    createdAt: T0,
    ...over,
  };
}

export function makeSigningKey(kid: string, over: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  return {
    kid,
    alg: 'ES256',
    publicJwk: { kty: 'EC', crv: 'P-256', x: `x-${kid}`, y: `y-${kid}` },
    privateKey: `eyJ.sealed.${kid}`,
    createdAt: T0,
    activatedAt: null,
    retiredAt: null,
    ...over,
  };
}

export function upstreamKindsContract(store: () => Store): void {
  describe('upstream registrations', () => {
    it('round-trips a registration per server and issuer', async () => {
      const a = makeRegistration();
      const b = makeRegistration({ server: 'other', kind: 'cimd', clientId: 'https://kh.example.com/oauth/client-metadata.json', clientSecret: null, registrationAccessToken: null, registrationClientUri: null, tokenEndpointAuthMethod: 'none' });
      await store().upstreamRegistrations.put(a);
      await store().upstreamRegistrations.put(b);
      expect(await store().upstreamRegistrations.find('demo', a.issuer)).toEqual(a);
      expect(await store().upstreamRegistrations.find('other', a.issuer)).toEqual(b);
      expect(await store().upstreamRegistrations.find('demo', 'https://another-as.example.com')).toBeUndefined();
    });

    it('replaces the registration of the same server and issuer', async () => {
      await store().upstreamRegistrations.put(makeRegistration());
      const next = makeRegistration({ clientId: 'upstream-client-2', clientSecretExpiresAt: T0 + 3600, createdAt: T0 + 5 });
      await store().upstreamRegistrations.put(next);
      expect(await store().upstreamRegistrations.find('demo', next.issuer)).toEqual(next);
    });

    it('deletes a registration', async () => {
      const r = makeRegistration();
      await store().upstreamRegistrations.put(r);
      await store().upstreamRegistrations.delete('demo', r.issuer);
      expect(await store().upstreamRegistrations.find('demo', r.issuer)).toBeUndefined();
    });
  });

  describe('signing keys', () => {
    it('lists keys oldest first, as created', async () => {
      const a = makeSigningKey('kid-a');
      const b = makeSigningKey('kid-b', { createdAt: T0 + 1 });
      await store().signingKeys.create(b);
      await store().signingKeys.create(a);
      expect(await store().signingKeys.list()).toEqual([a, b]);
    });

    it('refuses a duplicate kid', async () => {
      await store().signingKeys.create(makeSigningKey('kid-a'));
      await expect(store().signingKeys.create(makeSigningKey('kid-a'))).rejects.toThrow();
    });

    it('activating a key retires the active one, not the next ones', async () => {
      await store().signingKeys.create(makeSigningKey('kid-a'));
      await store().signingKeys.create(makeSigningKey('kid-b', { createdAt: T0 + 1 }));
      await store().signingKeys.create(makeSigningKey('kid-c', { createdAt: T0 + 2 }));
      await store().signingKeys.activate('kid-a', T0 + 10);
      await store().signingKeys.activate('kid-b', T0 + 20);
      const byKid = new Map((await store().signingKeys.list()).map((k) => [k.kid, k]));
      expect(byKid.get('kid-a')).toMatchObject({ activatedAt: T0 + 10, retiredAt: T0 + 20 });
      expect(byKid.get('kid-b')).toMatchObject({ activatedAt: T0 + 20, retiredAt: null });
      expect(byKid.get('kid-c')).toMatchObject({ activatedAt: null, retiredAt: null });
    });

    it('retires a key once, and deletes keys retired at or before a time', async () => {
      await store().signingKeys.create(makeSigningKey('kid-a'));
      await store().signingKeys.create(makeSigningKey('kid-b'));
      await store().signingKeys.create(makeSigningKey('kid-c'));
      await store().signingKeys.retire('kid-a', T0 + 10);
      await store().signingKeys.retire('kid-a', T0 + 99); // keeps the first retirement
      await store().signingKeys.retire('kid-b', T0 + 20);
      expect((await store().signingKeys.list()).find((k) => k.kid === 'kid-a')?.retiredAt).toBe(T0 + 10);
      expect(await store().signingKeys.deleteRetiredBefore(T0 + 10)).toBe(1);
      expect((await store().signingKeys.list()).map((k) => k.kid)).toEqual(['kid-b', 'kid-c']);
      expect(await store().signingKeys.deleteRetiredBefore(T0 + 100)).toBe(1);
      expect((await store().signingKeys.list()).map((k) => k.kid)).toEqual(['kid-c']);
    });
  });

  describe('sealed secrets', () => {
    it('puts, replaces, gets and deletes by name', async () => {
      expect(await store().sealedSecrets.find('static-credential:demo')).toBeUndefined();
      await store().sealedSecrets.put('static-credential:demo', 'eyJ.one', T0);
      await store().sealedSecrets.put('static-credential:other', 'eyJ.other', T0);
      await store().sealedSecrets.put('static-credential:demo', 'eyJ.two', T0 + 1);
      expect(await store().sealedSecrets.find('static-credential:demo')).toBe('eyJ.two');
      await store().sealedSecrets.delete('static-credential:demo');
      expect(await store().sealedSecrets.find('static-credential:demo')).toBeUndefined();
      expect(await store().sealedSecrets.find('static-credential:other')).toBe('eyJ.other');
    });

    it('putIfAbsent inserts only a free name (the first of several instances wins) and says whether it did', async () => {
      expect(await store().sealedSecrets.putIfAbsent('shared-key:consent', 'eyJ.first', T0)).toBe(true);
      expect(await store().sealedSecrets.putIfAbsent('shared-key:consent', 'eyJ.second', T0 + 1)).toBe(false);
      expect(await store().sealedSecrets.find('shared-key:consent')).toBe('eyJ.first');
      const racing = await Promise.all([1, 2, 3].map((i) => store().sealedSecrets.putIfAbsent('shared-key:race', `eyJ.${i}`, T0)));
      expect(racing.filter(Boolean)).toHaveLength(1);
    });
  });
}
