/**
 * SQLite vault-entries view: every sealed column, by key id (key rotation). The big tables keep the kid in a column;
 * the small ones (a few rows per server) read it from the header with the `keyhole_sealed_kid` SQL function
 * registered here.
 */
import type { Sealed, SealedEntry, SealedEntryFilter, SealedField, SealedKidCount, VaultEntryRepository } from '../types.js';
import type { Synchronous } from './async-repositories.js';
import { sealedKid } from '../rows/sealed-kid.js';
import { clampBatch, preparer, type SqliteContext } from './shared.js';

/** The sealed values of the small tables (migration 3), as (field, id, kid, sealed) rows. */
const SMALL_SEALED_SQL = `
  SELECT 'registration_client_secret' AS field, json_array(server, issuer) AS id,
    keyhole_sealed_kid(client_secret) AS kid, client_secret AS sealed FROM upstream_registrations WHERE client_secret IS NOT NULL
  UNION ALL SELECT 'registration_token', json_array(server, issuer), keyhole_sealed_kid(registration_access_token),
    registration_access_token FROM upstream_registrations WHERE registration_access_token IS NOT NULL
  UNION ALL SELECT 'signing_key', kid, keyhole_sealed_kid(private_key), private_key FROM signing_keys
  UNION ALL SELECT 'sealed_secret', name, keyhole_sealed_kid(sealed), sealed FROM sealed_secrets`;

export class SqliteVaultEntries implements Synchronous<VaultEntryRepository> {
  readonly #s;

  constructor(ctx: SqliteContext) {
    ctx.db.function('keyhole_sealed_kid', { deterministic: true }, (sealed: unknown) => sealedKid(typeof sealed === 'string' ? sealed : null));
    const p = preparer(ctx.db);
    this.#s = {
      countByKid: p<{ field: SealedField; kid: string | null; n: number }>(`
        SELECT 'pending_verifier' AS field, verifier_kid AS kid, count(*) AS n FROM pending_authorizations
          WHERE upstream_verifier IS NOT NULL GROUP BY verifier_kid
        UNION ALL SELECT 'upstream_access', access_kid, count(*) FROM upstream_credentials GROUP BY access_kid
        UNION ALL SELECT 'upstream_refresh', refresh_kid, count(*) FROM upstream_credentials
          WHERE refresh_token IS NOT NULL GROUP BY refresh_kid
        UNION ALL SELECT field, kid, count(*) FROM (${SMALL_SEALED_SQL}) GROUP BY field, kid`),
      list: p<SealedEntry>(`SELECT field, id, kid, sealed FROM (
          SELECT 'pending_verifier' AS field, id, verifier_kid AS kid, upstream_verifier AS sealed FROM pending_authorizations
            WHERE upstream_verifier IS NOT NULL
          UNION ALL SELECT 'upstream_access', grant_id, access_kid, access_token FROM upstream_credentials
          UNION ALL SELECT 'upstream_refresh', grant_id, refresh_kid, refresh_token FROM upstream_credentials
            WHERE refresh_token IS NOT NULL
          UNION ALL ${SMALL_SEALED_SQL})
        WHERE (@kid IS NULL OR kid = @kid) AND (@notKid IS NULL OR kid IS NULL OR kid <> @notKid)
          AND (@afterField IS NULL OR (field, id) > (@afterField, @afterId))
        ORDER BY field, id LIMIT @limit`),
      pending_verifier: p(`UPDATE pending_authorizations SET upstream_verifier = @next, verifier_kid = @kid
        WHERE id = @id AND upstream_verifier = @expected`),
      upstream_access: p(`UPDATE upstream_credentials SET access_token = @next, access_kid = @kid, version = version + 1
        WHERE grant_id = @id AND access_token = @expected`),
      upstream_refresh: p(`UPDATE upstream_credentials SET refresh_token = @next, refresh_kid = @kid, version = version + 1
        WHERE grant_id = @id AND refresh_token = @expected`),
      registration_client_secret: p(`UPDATE upstream_registrations SET client_secret = @next
        WHERE server = json_extract(@id, '$[0]') AND issuer = json_extract(@id, '$[1]') AND client_secret = @expected`),
      registration_token: p(`UPDATE upstream_registrations SET registration_access_token = @next
        WHERE server = json_extract(@id, '$[0]') AND issuer = json_extract(@id, '$[1]') AND registration_access_token = @expected`),
      signing_key: p('UPDATE signing_keys SET private_key = @next WHERE kid = @id AND private_key = @expected'),
      sealed_secret: p('UPDATE sealed_secrets SET sealed = @next WHERE name = @id AND sealed = @expected'),
    };
  }

  /** Per field, per kid (null = not a readable vault ciphertext), ordered by field then kid. */
  countByKid(): SealedKidCount[] {
    return this.#s.countByKid
      .all()
      .map((r) => ({ field: r.field, kid: r.kid, count: r.n }))
      .sort((a, b) => (a.field === b.field ? String(a.kid).localeCompare(String(b.kid)) : a.field.localeCompare(b.field)));
  }

  list(filter: SealedEntryFilter): SealedEntry[] {
    return this.#s.list.all({
      kid: filter.kid ?? null,
      notKid: filter.notKid ?? null,
      afterField: filter.after?.field ?? null,
      afterId: filter.after?.id ?? null,
      limit: clampBatch(filter.limit),
    });
  }

  replace(field: SealedField, id: string, expected: Sealed, next: Sealed): boolean {
    switch (field) {
      case 'pending_verifier':
      case 'upstream_access':
      case 'upstream_refresh': // tables with a kid column
        return this.#s[field].run({ id, expected, next, kid: sealedKid(next) }).changes === 1;
      case 'registration_client_secret':
      case 'registration_token':
      case 'signing_key':
      case 'sealed_secret':
        return this.#s[field].run({ id, expected, next }).changes === 1;
      default:
        throw new TypeError(`unknown sealed field ${JSON.stringify(field)}`);
    }
  }
}
