/**
 * Records in the OS keychain through keytar (loaded lazily by src/vault/secret-store.ts): service
 * `mcp-keyhole-connect`, account = the MCP server URL, secret = the JSON record. The keychain encrypts at rest and
 * scopes access to the user's session.
 */
import { KeytarSecretStore } from '../vault/secret-store.js';
import { decodeRecord, encodeRecord, type ConnectCredentials, type CredentialStore } from './credential-store.js';

export const CONNECT_KEYCHAIN_SERVICE = 'mcp-keyhole-connect';

export class KeychainCredentialStore implements CredentialStore {
  readonly kind = 'keychain';
  readonly location: string;
  readonly #secrets: KeytarSecretStore;

  constructor(service = CONNECT_KEYCHAIN_SERVICE) {
    this.#secrets = new KeytarSecretStore(service);
    this.location = `the OS keychain (service ${service})`;
  }

  /** Writes, reads back and deletes a probe secret; throws KeychainUnavailableError saying what is missing. */
  probe(): Promise<void> {
    return this.#secrets.probe();
  }

  async load(serverUrl: string): Promise<ConnectCredentials> {
    return decodeRecord(serverUrl, await this.#secrets.get(serverUrl));
  }

  async save(serverUrl: string, credentials: ConnectCredentials): Promise<void> {
    await this.#secrets.set(serverUrl, encodeRecord(serverUrl, credentials));
  }

  async remove(serverUrl: string): Promise<void> {
    await this.#secrets.delete(serverUrl);
  }
}
