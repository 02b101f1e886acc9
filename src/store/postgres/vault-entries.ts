/**
 * PostgreSQL vault-entries view (../repositories/vault-entries.ts): every sealed column, by key id (key rotation).
 * The big tables keep the kid in a column and are filtered, ordered and cut in SQL; the small ones (upstream
 * registrations, signing keys, sealed secrets: a few rows per server) are read whole and their kid is taken from the
 * ciphertext header in JS (SQLite does the same through a SQL function), then merged in (field, id) byte order.
 */
import type { Sealed, SealedEntry, SealedEntryFilter, SealedField, SealedKidCount, VaultEntryRepository } from '../types.js';
import { sealedKid } from '../rows/sealed-kid.js';
import { statement, type Executor } from './executor.js';
import { clampBatch } from './values.js';

const BIG_SEALED_SQL = `
  SELECT 'pending_verifier' AS field, id, verifier_kid AS kid, upstream_verifier AS sealed FROM pending_authorizations
    WHERE upstream_verifier IS NOT NULL
  UNION ALL SELECT 'upstream_access', grant_id, access_kid, access_token FROM upstream_credentials
  UNION ALL SELECT 'upstream_refresh', grant_id, refresh_kid, refresh_token FROM upstream_credentials WHERE refresh_token IS NOT NULL`;

const S = {
  countBig: statement<{ field: SealedField; kid: string | null; n: number }>('vault.count-big', `
    SELECT 'pending_verifier' AS field, verifier_kid AS kid, count(*) AS n FROM pending_authorizations
      WHERE upstream_verifier IS NOT NULL GROUP BY verifier_kid
    UNION ALL SELECT 'upstream_access', access_kid, count(*) FROM upstream_credentials GROUP BY access_kid
    UNION ALL SELECT 'upstream_refresh', refresh_kid, count(*) FROM upstream_credentials
      WHERE refresh_token IS NOT NULL GROUP BY refresh_kid`),
  listBig: statement<SealedEntry>('vault.list-big', `SELECT field, id, kid, sealed FROM (${BIG_SEALED_SQL}) e
    WHERE (@kid::text IS NULL OR kid = @kid::text) AND (@notKid::text IS NULL OR kid IS NULL OR kid <> @notKid::text)
      AND (@afterField::text IS NULL
        OR (field COLLATE "C", id COLLATE "C") > (@afterField::text COLLATE "C", @afterId::text COLLATE "C"))
    ORDER BY field COLLATE "C", id COLLATE "C" LIMIT @limit`),
  small: statement<{ field: SealedField; server: string | null; issuer: string | null; id: string | null; sealed: string }>('vault.small', `
    SELECT 'registration_client_secret' AS field, server, issuer, NULL AS id, client_secret AS sealed FROM upstream_registrations
      WHERE client_secret IS NOT NULL
    UNION ALL SELECT 'registration_token', server, issuer, NULL, registration_access_token FROM upstream_registrations
      WHERE registration_access_token IS NOT NULL
    UNION ALL SELECT 'signing_key', NULL, NULL, kid, private_key FROM signing_keys
    UNION ALL SELECT 'sealed_secret', NULL, NULL, name, sealed FROM sealed_secrets`),
  pending_verifier: statement('vault.replace-pending-verifier', `UPDATE pending_authorizations SET upstream_verifier = @next, verifier_kid = @kid
    WHERE id = @id AND upstream_verifier = @expected`),
  upstream_access: statement('vault.replace-upstream-access', `UPDATE upstream_credentials SET access_token = @next, access_kid = @kid, version = version + 1
    WHERE grant_id = @id AND access_token = @expected`),
  upstream_refresh: statement('vault.replace-upstream-refresh', `UPDATE upstream_credentials SET refresh_token = @next, refresh_kid = @kid, version = version + 1
    WHERE grant_id = @id AND refresh_token = @expected`),
  registration_client_secret: statement('vault.replace-registration-secret', `UPDATE upstream_registrations SET client_secret = @next
    WHERE server = @server AND issuer = @issuer AND client_secret = @expected`),
  registration_token: statement('vault.replace-registration-token', `UPDATE upstream_registrations SET registration_access_token = @next
    WHERE server = @server AND issuer = @issuer AND registration_access_token = @expected`),
  signing_key: statement('vault.replace-signing-key', 'UPDATE signing_keys SET private_key = @next WHERE kid = @id AND private_key = @expected'),
  sealed_secret: statement('vault.replace-sealed-secret', 'UPDATE sealed_secrets SET sealed = @next WHERE name = @id AND sealed = @expected'),
};

/** Byte order of ASCII/UTF-16 code units, as SQL's COLLATE "C" for the ids keyhole makes. */
const byCode = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byEntry = (a: SealedEntry, b: SealedEntry): number => byCode(a.field, b.field) || byCode(a.id, b.id);

/** The registration key of a vault-entry id (`["<server>","<issuer>"]`), or undefined when it is not one. */
function registrationKey(id: string): { server: string; issuer: string } | undefined {
  try {
    const parsed: unknown = JSON.parse(id);
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
      return { server: parsed[0], issuer: parsed[1] };
    }
  } catch {
    // not a registration id
  }
  return undefined;
}

export class PostgresVaultEntries implements VaultEntryRepository {
  constructor(private readonly ex: Executor) {}

  /** The sealed values of the small tables, with their kid. */
  async #small(): Promise<SealedEntry[]> {
    return (await this.ex.rows(S.small)).map((r) => ({
      field: r.field,
      id: r.id ?? JSON.stringify([r.server, r.issuer]),
      kid: sealedKid(r.sealed),
      sealed: r.sealed,
    }));
  }

  /** Per field, per kid (null = not a readable vault ciphertext), ordered by field then kid (as SQLite's). */
  async countByKid(): Promise<SealedKidCount[]> {
    const counts = (await this.ex.rows(S.countBig)).map((r) => ({ field: r.field, kid: r.kid, count: r.n }));
    const small = new Map<string, SealedKidCount>();
    for (const e of await this.#small()) {
      const key = JSON.stringify([e.field, e.kid]);
      const c = small.get(key) ?? { field: e.field, kid: e.kid, count: 0 };
      c.count++;
      small.set(key, c);
    }
    return [...counts, ...small.values()].sort((a, b) =>
      a.field === b.field ? String(a.kid).localeCompare(String(b.kid)) : a.field.localeCompare(b.field),
    );
  }

  async list(filter: SealedEntryFilter): Promise<SealedEntry[]> {
    const limit = clampBatch(filter.limit);
    const big = await this.ex.rows(S.listBig, {
        kid: filter.kid ?? null,
        notKid: filter.notKid ?? null,
        afterField: filter.after?.field ?? null,
        afterId: filter.after?.id ?? null,
        limit,
      });
    const small = (await this.#small()).filter(
        (e) =>
          (filter.kid == null || e.kid === filter.kid) &&
          (filter.notKid == null || e.kid === null || e.kid !== filter.notKid) &&
          (filter.after == null || byEntry(e, { ...filter.after, kid: null, sealed: '' }) > 0),
      );
    return [...big, ...small].sort(byEntry).slice(0, limit);
  }

  async replace(field: SealedField, id: string, expected: Sealed, next: Sealed): Promise<boolean> {
    switch (field) {
      case 'pending_verifier':
      case 'upstream_access':
      case 'upstream_refresh': // tables with a kid column
        return (await this.ex.run(S[field], { id, expected, next, kid: sealedKid(next) })) === 1;
      case 'registration_client_secret':
      case 'registration_token': {
        const key = registrationKey(id);
        return key !== undefined && (await this.ex.run(S[field], { ...key, expected, next })) === 1;
      }
      case 'signing_key':
      case 'sealed_secret':
        return (await this.ex.run(S[field], { id, expected, next })) === 1;
      default:
        throw new TypeError(`unknown sealed field ${JSON.stringify(field)}`);
    }
  }
}
