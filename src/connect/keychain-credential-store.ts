/**
 * Records in the OS keychain through keytar (loaded lazily by src/vault/secret-store.ts): service
 * `mcp-keyhole-connect`, account = the MCP server URL, secret = the JSON record. The keychain encrypts at rest and
 * scopes access to the user's session.
 */
import { randomBytes } from 'node:crypto';
import { KeychainUnavailableError } from '../vault/errors.js';
import { KeytarSecretStore, SECRET_SERVICE_HINT } from '../vault/secret-store.js';
import { decodeRecord, encodeRecord, type ConnectCredentials, type CredentialStore } from './credential-store.js';

export const CONNECT_KEYCHAIN_SERVICE = 'mcp-keyhole-connect';
const PROBE_TIMEOUT_MS = 10_000;

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the keychain did not answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export class KeychainCredentialStore implements CredentialStore {
  readonly kind = 'keychain';
  readonly location: string;
  readonly #secrets: KeytarSecretStore;

  constructor(service = CONNECT_KEYCHAIN_SERVICE) {
    this.#secrets = new KeytarSecretStore(service);
    this.location = `the OS keychain (service ${service})`;
  }

  /**
   * Writes, reads back and deletes a probe secret (a locked keychain answers reads but refuses writes); throws
   * KeychainUnavailableError saying what is missing. The probe account is unique to this process: a client that
   * starts several bridges at once (Claude Desktop does) must not have them delete each other's probe.
   */
  async probe(): Promise<void> {
    const account = `keyhole-connect-probe-${process.pid}-${randomBytes(4).toString('hex')}`;
    const value = randomBytes(12).toString('base64url');
    try {
      await within(this.#secrets.set(account, value), PROBE_TIMEOUT_MS);
      const read = await within(this.#secrets.get(account), PROBE_TIMEOUT_MS);
      await within(this.#secrets.delete(account), PROBE_TIMEOUT_MS);
      if (read !== value) throw new Error('a secret written to it could not be read back');
    } catch (e) {
      // keytar missing, or the Secret Service refused: the message already says what to install or start.
      if (e instanceof KeychainUnavailableError) throw new KeychainUnavailableError(`no usable OS keychain: ${e.message}`);
      throw new KeychainUnavailableError(`no usable OS keychain: ${(e as Error).message}. ${SECRET_SERVICE_HINT}`);
    }
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
