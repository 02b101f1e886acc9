/**
 * Static credentials: one API key per server, for SaaS that only issue API keys. The key comes from the config
 * (`${ENV}`), is sealed into the vault at startup (ctx `static-credential:<server>`), and is read back from there
 * (once, then kept in memory) for every forwarded request, in the configured header.
 *
 * The user still signs in through the server's `oauth` identity provider: that says who uses the key (the
 * grant, the audit trail, revocation); the identity provider's tokens never go upstream.
 * An upstream 401 means the key itself is refused: keyhole answers 502 instead of sending the client to
 * re-authorize (which would not help), and records `upstream.credential_rejected`.
 */
import type { StaticCredentialConfig } from '../config/upstream-credential-schema.js';
import type { Store } from '../store/types.js';
import type { VaultCipher } from '../store/crypto/vault-cipher.js';
import type { EventRecorder } from '../events/recorder.js';
import type { CredentialGrant, UpstreamAuthHeader, UpstreamCredentialSource } from './credential-source.js';
import { UpstreamUnavailableError } from './errors.js';
import { forgetOnRejection } from './forget-on-rejection.js';

export const staticCredentialSealContext = (server: string) => `static-credential:${server}`;

export interface StaticCredentialSourceDeps {
  server: string;
  config: StaticCredentialConfig;
  store: Store;
  cipher: VaultCipher;
  events: EventRecorder;
  clock: () => number;
}

export class StaticCredentialSource implements UpstreamCredentialSource {
  private prepared: Promise<void> | undefined;
  private value: Promise<string> | undefined;

  constructor(private readonly deps: StaticCredentialSourceDeps) {}

  /** Seal the configured key into the vault (kept as is when the stored one already opens to the same key). */
  prepare(): Promise<void> {
    this.prepared ??= forgetOnRejection((async () => {
      const { store, cipher, server, config, clock } = this.deps;
      const ctx = staticCredentialSealContext(server);
      const stored = await store.sealedSecrets.find(ctx);
      if (stored) {
        const same = await cipher.open(stored, ctx).then((v) => v === config.value, () => false);
        if (same) return;
      }
      await store.sealedSecrets.put(ctx, await cipher.seal(config.value, ctx), clock());
    })(), () => (this.prepared = undefined));
    return this.prepared;
  }

  async getCredential(grant: CredentialGrant, force: boolean): Promise<UpstreamAuthHeader> {
    const { server, config, events } = this.deps;
    if (force) {
      await events.record({ type: 'upstream.credential_rejected', grantId: grant.id, clientId: grant.clientId, server, subject: grant.subject, outcome: 'failure', detail: { kind: 'static', header: config.header } });
      throw new UpstreamUnavailableError('protocol');
    }
    this.value ??= forgetOnRejection(this.load(), () => (this.value = undefined));
    return { header: config.header, value: `${config.prefix}${await this.value}` };
  }

  private async load(): Promise<string> {
    await this.prepare();
    const ctx = staticCredentialSealContext(this.deps.server);
    const sealed = await this.deps.store.sealedSecrets.find(ctx);
    if (!sealed) throw new UpstreamUnavailableError('protocol');
    return this.deps.cipher.open(sealed, ctx);
  }
}
