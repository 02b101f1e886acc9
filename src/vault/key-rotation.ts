/**
 * Master-key rotation without re-consent. Every vault ciphertext in the store (sealed upstream access and refresh
 * tokens, pending PKCE verifiers, keyhole's client secrets and registration tokens at upstreams, identity-JWT signing
 * keys, sealed static credentials) names its key id (`kid`); rotation re-seals each one under the keyring's current
 * key:
 * - in batches (default 500 entries): the batch is opened and re-sealed in memory, then written in ONE transaction
 *   with a compare-and-set per entry (an entry that changed meanwhile — a refresh by a running keyhole — is left to
 *   that writer);
 * - safe to interrupt: a batch is committed whole or not at all, and every entry is valid under its own kid all
 *   along, since old keys stay in the keyring until `keys retire`;
 * - resumable: a new run simply works through the entries whose kid is not the current one.
 * Refresh tokens held in the OS keychain are not sealed with the master key, so rotation does not touch them.
 */
import type { Keyring } from '../store/crypto/vault-cipher.js';
import type { VaultCipher } from '../store/crypto/vault-cipher.js';
import type { SealedEntry, SealedField, Store } from '../store/types.js';
import { registrationSealContext, sealContext, signingKeySealContext } from './seal-contexts.js';
import { UndecryptableEntriesError, VaultCommandError } from './errors.js';

export const SEALED_FIELDS: readonly SealedField[] = [
  'upstream_access', 'upstream_refresh', 'pending_verifier', 'registration_client_secret', 'registration_token', 'signing_key', 'sealed_secret',
];
export const DEFAULT_ROTATION_BATCH = 500;

/** Registration ids are JSON `["<server>","<issuer>"]` (see SealedField). */
function registrationId(id: string): [string, string] {
  const parsed: unknown = JSON.parse(id);
  if (!Array.isArray(parsed) || parsed.length !== 2 || !parsed.every((x) => typeof x === 'string')) throw new TypeError('not a registration id');
  return parsed as [string, string];
}

/** The `ctx` a sealed entry was bound to (the same functions that sealed it). */
export function ctxForSealed(field: SealedField, id: string): string {
  switch (field) {
    case 'upstream_access':
      return sealContext.access(id);
    case 'upstream_refresh':
      return sealContext.refresh(id);
    case 'pending_verifier':
      return sealContext.pendingVerifier(id);
    case 'registration_client_secret':
      return registrationSealContext.clientSecret(...registrationId(id));
    case 'registration_token':
      return registrationSealContext.registrationToken(...registrationId(id));
    case 'signing_key':
      return signingKeySealContext(id);
    case 'sealed_secret':
      return id; // the name is the ctx
  }
}

/** Entries per kid (null = unreadable ciphertext), with a per-field breakdown and a total. */
export interface KidUsage {
  kid: string | null;
  byField: Record<SealedField, number>;
  total: number;
}

export async function sealedUsageByKid(store: Store): Promise<KidUsage[]> {
  const usage = new Map<string | null, KidUsage>();
  for (const { field, kid, count } of await store.vaultEntries.countByKid()) {
    let u = usage.get(kid);
    if (!u) {
      u = { kid, byField: Object.fromEntries(SEALED_FIELDS.map((f) => [f, 0])) as Record<SealedField, number>, total: 0 };
      usage.set(kid, u);
    }
    u.byField[field] += count;
    u.total += count;
  }
  return [...usage.values()].sort((a, b) => String(a.kid).localeCompare(String(b.kid)));
}

const FIELD_WORDS: Record<SealedField, string> = {
  upstream_access: 'upstream access token',
  upstream_refresh: 'upstream refresh token',
  pending_verifier: 'pending PKCE verifier',
  registration_client_secret: 'upstream client secret',
  registration_token: 'upstream registration access token',
  signing_key: 'identity-JWT signing key',
  sealed_secret: 'sealed static secret',
};

/** "3 upstream access tokens, 3 upstream refresh tokens, 1 pending PKCE verifier". */
export function describeUsage(u: KidUsage): string {
  return SEALED_FIELDS.filter((f) => u.byField[f] > 0)
    .map((f) => `${u.byField[f]} ${FIELD_WORDS[f]}${u.byField[f] === 1 ? '' : 's'}`)
    .join(', ');
}

/**
 * Startup check: the keyring must hold every kid the store's entries name. Otherwise keyhole would start and then
 * fail request by request; this fails at once and names the counts per missing kid.
 */
export async function assertKeyringCovers(store: Store, keyring: Keyring, sourceDescription = 'the configured key source'): Promise<void> {
  const missing = (await sealedUsageByKid(store)).filter((u): u is KidUsage & { kid: string } => u.kid !== null && !keyring.keys.has(u.kid));
  if (missing.length === 0) return;
  const total = missing.reduce((n, u) => n + u.total, 0);
  const lines = missing.map((u) => `  - ${u.kid}: ${u.total} entries (${describeUsage(u)})`);
  throw new UndecryptableEntriesError(
    `the master keyring cannot decrypt ${total} stored vault entries: their keys are not in ${sourceDescription} ` +
      `(it holds ${[...keyring.keys.keys()].join(', ')}; current ${keyring.current}).\n${lines.join('\n')}\n` +
      'Start keyhole with the keyring these entries were sealed with (after a rotation, keep the old key until ' +
      '`keyhole keys status` shows no entry under it). keyhole does not start rather than fail request by request.',
    new Map(missing.map((u) => [u.kid, u.total])),
  );
}

export interface RotationBatch {
  /** 1-based batch number in this run. */
  batch: number;
  /** Re-sealed under the current key and committed. */
  reencrypted: number;
  /** Changed by another writer between read and write: left as that writer left it. */
  skipped: number;
  /** Could not be opened (unknown kid, tampered, wrong ctx): left untouched. */
  failed: number;
  /** Entries not under the current key after this batch (all kids). */
  remaining: number;
}

export interface RotationResult {
  currentKid: string;
  batches: number;
  reencrypted: number;
  skipped: number;
  failed: Array<{ field: SealedField; id: string; kid: string | null; error: string }>;
  remaining: number;
}

export interface RotationOptions {
  batchSize?: number;
  /** Pause between batches (milliseconds), to go easy on a database that is in use. */
  pauseMs?: number;
  /** Called after each committed batch. */
  onBatch?: (b: RotationBatch) => void | Promise<void>;
}

/** Entries in the store that are not under `kid`. */
export async function countNotUnder(store: Store, kid: string): Promise<number> {
  return (await sealedUsageByKid(store)).filter((u) => u.kid !== kid).reduce((n, u) => n + u.total, 0);
}

/** Re-seals every entry whose kid is not the cipher's current kid. Resumable: run it again after an interruption. */
export async function reencryptToCurrentKey(store: Store, cipher: VaultCipher, opts: RotationOptions = {}): Promise<RotationResult> {
  const batchSize = Math.max(1, Math.min(1000, Math.floor(opts.batchSize ?? DEFAULT_ROTATION_BATCH)));
  const current = cipher.currentKid;
  const result: RotationResult = { currentKid: current, batches: 0, reencrypted: 0, skipped: 0, failed: [], remaining: 0 };
  let after: { field: SealedField; id: string } | undefined;
  for (;;) {
    const batch: SealedEntry[] = await store.vaultEntries.list({ notKid: current, limit: batchSize, ...(after ? { after } : {}) });
    if (batch.length === 0) break;
    const last = batch[batch.length - 1]!;
    after = { field: last.field, id: last.id };

    const updates: Array<{ entry: SealedEntry; next: string }> = [];
    let failed = 0;
    for (const entry of batch) {
      try {
        const ctx = ctxForSealed(entry.field, entry.id);
        updates.push({ entry, next: await cipher.seal(await cipher.open(entry.sealed, ctx), ctx) });
      } catch (e) {
        failed++;
        result.failed.push({ field: entry.field, id: entry.id, kid: entry.kid, error: (e as Error).name });
      }
    }
    let reencrypted = 0;
    await store.transaction(async (tx) => {
      for (const { entry, next } of updates) if (await tx.vaultEntries.replace(entry.field, entry.id, entry.sealed, next)) reencrypted++;
    });
    result.batches++;
    result.reencrypted += reencrypted;
    result.skipped += updates.length - reencrypted;
    const remaining = await countNotUnder(store, current);
    await opts.onBatch?.({ batch: result.batches, reencrypted, skipped: updates.length - reencrypted, failed, remaining });
    if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
  }
  result.remaining = await countNotUnder(store, current);
  return result;
}

/** Refuses to drop a key that is current or that entries still use; returns the keyring without it. */
export async function keyringWithout(store: Store, keyring: Keyring, kid: string): Promise<Keyring> {
  if (!keyring.keys.has(kid)) throw new VaultCommandError(`the keyring has no key ${kid} (it holds ${[...keyring.keys.keys()].join(', ')})`);
  if (kid === keyring.current) throw new VaultCommandError(`${kid} is the current key; rotate to a new key first (keyhole keys rotate)`);
  const usage = (await sealedUsageByKid(store)).find((u) => u.kid === kid);
  if (usage && usage.total > 0) {
    throw new VaultCommandError(
      `${usage.total} entries still use ${kid} (${describeUsage(usage)}); run keyhole keys rotate until ` +
        '`keyhole keys status` shows none, then retire it',
    );
  }
  const keys = new Map(keyring.keys);
  keys.delete(kid);
  return { current: keyring.current, keys };
}
