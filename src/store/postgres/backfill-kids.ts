/**
 * Migration 2's backfill (./migrations.ts), as SQLite's does: the key id of every stored vault ciphertext, read from
 * its header in JS, into the `*_kid` column beside it.
 */
import type pg from 'pg';
import { sealedKid } from '../rows/sealed-kid.js';

export async function backfillKids(client: pg.ClientBase): Promise<void> {
  const credentials = await client.query<{ grant_id: string; access_token: string; refresh_token: string | null }>(
    'SELECT grant_id, access_token, refresh_token FROM upstream_credentials',
  );
  for (const r of credentials.rows) {
    await client.query('UPDATE upstream_credentials SET access_kid = $1, refresh_kid = $2 WHERE grant_id = $3', [
      sealedKid(r.access_token), sealedKid(r.refresh_token), r.grant_id,
    ]);
  }
  const pending = await client.query<{ id: string; upstream_verifier: string }>(
    'SELECT id, upstream_verifier FROM pending_authorizations WHERE upstream_verifier IS NOT NULL',
  );
  for (const r of pending.rows) {
    await client.query('UPDATE pending_authorizations SET verifier_kid = $1 WHERE id = $2', [sealedKid(r.upstream_verifier), r.id]);
  }
}
