/**
 * Keychain tests need a real Secret Service (gnome-keyring inside a D-Bus session). Without one they FAIL with a
 * message saying how to run them (scripts/with-keyring.sh), unless KEYHOLE_SKIP_KEYCHAIN_TESTS=1 skips them.
 * Every test uses its own keychain service names (a random instance name) and deletes what it wrote.
 */
import { randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';
import { KeytarSecretStore, keychainService, type SecretStore } from '../../src/vault/secret-store.js';

async function probe(): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    await new KeytarSecretStore(`mcp-keyhole/test-probe-${process.pid}`).probe();
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

export const keychainAvailability = await probe();
export const skipKeychainTests = process.env.KEYHOLE_SKIP_KEYCHAIN_TESTS === '1';

/** `describe` for tests that need the OS keychain: fails clearly without one, unless skipping is asked for. */
export function describeKeychain(name: string, fn: () => void): void {
  if (keychainAvailability.ok) {
    describe(name, fn);
  } else if (skipKeychainTests) {
    describe.skip(name, fn);
  } else {
    const reason = keychainAvailability.reason;
    describe(name, () => {
      it('needs a Secret Service (OS keychain)', () => {
        throw new Error(
          `No usable Secret Service for the keychain tests: ${reason}\n` +
            'Run the tests inside a D-Bus session with an unlocked gnome-keyring: scripts/with-keyring.sh npm test ' +
            '(Debian: apt-get install -y gnome-keyring dbus libsecret-1-dev; npm rebuild keytar). ' +
            'To skip the keychain tests locally: KEYHOLE_SKIP_KEYCHAIN_TESTS=1.',
        );
      });
    });
  }
}

export function testInstanceName(): string {
  return `test-${randomBytes(6).toString('hex')}`;
}

/** The vault's keychain store for an instance name. */
export function vaultKeychain(instanceName: string): KeytarSecretStore {
  return new KeytarSecretStore(keychainService.vault(instanceName));
}

/** Deletes every secret of the store's service (test clean-up). */
export async function wipe(secrets: SecretStore): Promise<void> {
  const accounts = await secrets.accounts().catch(() => [] as string[]);
  for (const account of accounts) await secrets.delete(account).catch(() => false);
}
