/**
 * ES256 keys that sign keyhole's identity JWTs, and the JWKS that publishes them.
 *
 * Lifecycle of a key: *next* (published in the JWKS, not signing) → *active* (signing) → *retired* (published
 * until every token it signed has expired: retiredAt + max token lifetime + leeway) → deleted.
 * Publishing the next key one rotation period ahead means a verifier that cached the JWKS at any time since the
 * last rotation already knows the key that signs after the next rotation: no unknown `kid` and no forced refetch.
 *
 * Private keys are sealed in the store (vault ctx `signing-key:<kid>`); only public members are ever published.
 * A key whose private half can no longer be opened (its vault key was removed) is retired and replaced.
 * @see https://www.rfc-editor.org/rfc/rfc7517 JWK
 * @see https://www.rfc-editor.org/rfc/rfc7638 JWK thumbprint (the kid)
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { SigningKeyRecord, Store } from '../store/types.js';
import type { VaultCipher } from '../store/crypto/vault-cipher.js';
import type { EventRecorder } from '../events/recorder.js';

export const SIGNING_ALG = 'ES256';
/** Extra time a retired key stays published beyond the longest token lifetime (clock skew, caches). */
const PUBLISH_LEEWAY_SECONDS = 60;

import { signingKeySealContext } from '../vault/seal-contexts.js';
import { forgetOnRejection } from './forget-on-rejection.js';
export { signingKeySealContext };

export interface SigningKeysDeps {
  store: Store;
  cipher: VaultCipher;
  events: EventRecorder;
  clock: () => number;
  /** Rotate the active key this often. */
  rotationSeconds: number;
  /** The longest lifetime of a token the keys sign (retired keys stay published this long). */
  maxTokenTtlSeconds: number;
}

export interface ActiveKey {
  kid: string;
  key: CryptoKey;
  activatedAt: number;
}

export class SigningKeys {
  private loaded: Promise<void> | undefined;
  private rotating: Promise<string> | undefined;
  private active: ActiveKey | undefined;
  private jwksCache: { keys: JWK[] } | undefined;
  private jwksUntil = 0;
  private readonly rotateListeners: Array<(kid: string) => void> = [];

  constructor(private readonly deps: SigningKeysDeps) {}

  /** The kid that signs now (undefined before the keys are loaded). */
  get activeKid(): string | undefined {
    return this.active?.kid;
  }

  onRotate(listener: (kid: string) => void): void {
    this.rotateListeners.push(listener);
  }

  /** Load the keys, creating the first ones on first start. Idempotent. */
  ready(): Promise<void> {
    this.loaded ??= forgetOnRejection(this.load(), () => (this.loaded = undefined));
    return this.loaded;
  }

  /** The key to sign with now; rotates first when the active key is due (unless another instance just did). */
  async signingKey(): Promise<ActiveKey> {
    await this.ready();
    if (this.active && this.active.activatedAt + this.deps.rotationSeconds > this.deps.clock()) return this.active;
    await this.reload(); // several instances: another may have rotated already
    if (this.active && this.active.activatedAt + this.deps.rotationSeconds > this.deps.clock()) return this.active;
    await this.rotate();
    return this.active!;
  }

  /**
   * Follows the database: adopts the active key another instance activated (its `signing-keys` notice, or a due
   * rotation) and drops the cached JWKS. A no-op before the keys are loaded.
   */
  async reload(): Promise<void> {
    if (!this.loaded) return;
    await this.loaded;
    const active = (await this.deps.store.signingKeys.list()).filter((k) => k.activatedAt !== null && k.retiredAt === null).at(-1);
    if (active && active.kid !== this.active?.kid) {
      const key = await this.open(active);
      if (key) this.active = { kid: active.kid, key, activatedAt: active.activatedAt! };
    }
    this.invalidateJwks();
  }

  /** Promote the next key to active, publish a new next key, drop keys no token can need. Returns the new kid. */
  async rotate(): Promise<string> {
    await this.ready();
    this.rotating ??= this.promote().finally(() => {
      this.rotating = undefined;
    });
    return this.rotating;
  }

  /** The published key set: next, active and still-needed retired keys, public members only. */
  async jwks(): Promise<{ keys: JWK[] }> {
    await this.ready();
    const now = this.deps.clock();
    if (this.jwksCache && now < this.jwksUntil) return this.jwksCache;
    const horizon = now - this.deps.maxTokenTtlSeconds - PUBLISH_LEEWAY_SECONDS;
    const keys = await (await this.deps.store
      .signingKeys.list())
      .filter((k) => k.retiredAt === null || k.retiredAt > horizon)
      .map((k) => publicOnly(k));
    this.jwksCache = { keys };
    this.jwksUntil = now + 60;
    return this.jwksCache;
  }

  private invalidateJwks(): void {
    this.jwksCache = undefined;
  }

  private async load(): Promise<void> {
    const { store, clock } = this.deps;
    await this.prune();
    const keys = await store.signingKeys.list();
    const active = keys.filter((k) => k.activatedAt !== null && k.retiredAt === null).at(-1);
    if (active) {
      const key = await this.open(active);
      if (key) this.active = { kid: active.kid, key, activatedAt: active.activatedAt! };
      else await store.signingKeys.retire(active.kid, clock());
    }
    if (!keys.some((k) => k.activatedAt === null && k.retiredAt === null)) await this.createNext();
    if (!this.active) await this.promote();
    this.invalidateJwks();
  }

  private async promote(): Promise<string> {
    const { store, clock, events } = this.deps;
    const now = clock();
    let next: ActiveKey | undefined;
    for (const candidate of (await store.signingKeys.list()).filter((k) => k.activatedAt === null && k.retiredAt === null).reverse()) {
      const key = await this.open(candidate);
      if (key) {
        next = { kid: candidate.kid, key, activatedAt: now };
        break;
      }
      await store.signingKeys.retire(candidate.kid, now);
    }
    next ??= await this.createNext();
    await store.signingKeys.activate(next.kid, now); // retires the previous active key in the same transaction
    const previous = this.active?.kid ?? null;
    this.active = { ...next, activatedAt: now };
    await this.createNext();
    await this.prune();
    this.invalidateJwks();
    await events.record({ type: 'identity.signing_key_rotated', detail: { kid: next.kid, previous_kid: previous } });
    await store.changes.publish('signing-keys', next.kid).catch(() => undefined); // others adopt it at their next due rotation anyway
    for (const l of this.rotateListeners) l(next.kid);
    return next.kid;
  }

  private async prune(): Promise<void> {
    const { store, clock, maxTokenTtlSeconds } = this.deps;
    await store.signingKeys.deleteRetiredBefore(clock() - maxTokenTtlSeconds - PUBLISH_LEEWAY_SECONDS);
  }

  private async createNext(): Promise<ActiveKey> {
    const { store, cipher, clock } = this.deps;
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = await exportJWK(privateKey);
    await store.signingKeys.create({
      kid,
      alg: SIGNING_ALG,
      publicJwk: { ...publicJwk } as Record<string, unknown>,
      privateKey: await cipher.seal(JSON.stringify(privateJwk), signingKeySealContext(kid)),
      createdAt: clock(),
      activatedAt: null,
      retiredAt: null,
    });
    this.invalidateJwks();
    return { kid, key: privateKey, activatedAt: clock() };
  }

  private async open(k: SigningKeyRecord): Promise<CryptoKey | undefined> {
    try {
      const jwk = JSON.parse(await this.deps.cipher.open(k.privateKey, signingKeySealContext(k.kid))) as JWK;
      return (await importJWK(jwk, SIGNING_ALG)) as CryptoKey;
    } catch {
      return undefined; // sealed under a vault key that is gone, or damaged: the caller retires it
    }
  }
}

function publicOnly(k: SigningKeyRecord): JWK {
  const { kty, crv, x, y } = k.publicJwk as { kty?: string; crv?: string; x?: string; y?: string };
  return { kty, crv, x, y, kid: k.kid, alg: k.alg, use: 'sig' } as JWK;
}
