/**
 * The `storage` block (issue 12 §1), for schema.ts to plug in:
 *
 *   "storage": { "sqlite": "./keyhole.db" }              one file on this machine (the default)
 *   "storage": { "postgres": "${DATABASE_URL}" }         a PostgreSQL database, e.g. postgres://keyhole:pw@db:5432/keyhole
 *   "vault": "database" | "keychain"                     where upstream refresh tokens go: sealed in the database
 *                                                        (default; "sqlite" is an older name for it) or the OS keychain
 *                                                        (refused with postgres: each machine has its own keychain)
 *   "minFreeMegabytes": 64                               sqlite: /readyz fails below this much free disk space
 *
 * Exactly one of `sqlite` and `postgres`; without either, `sqlite` is `./keyhole.db`. The parsed config holds the one
 * that is used, and `vault` as "database" or "keychain".
 */
import { z } from 'zod';

const POSTGRES_URL = /^postgres(ql)?:\/\//;

function isPostgresUrl(value: string): boolean {
  if (!POSTGRES_URL.test(value)) return false;
  try {
    return new URL(value).hostname !== '' || new URL(value).searchParams.has('host');
  } catch {
    return false;
  }
}

export const storageSchema = z
  .strictObject({
    /** The SQLite database file (created mode 0600); `:memory:` for a throw-away one. */
    sqlite: z.string().min(1).optional(),
    /** A PostgreSQL connection URL; usually "${DATABASE_URL}" so that the password stays out of the file. */
    postgres: z
      .string()
      .min(1)
      .refine(isPostgresUrl, 'must be a PostgreSQL URL: postgres://user:password@host:5432/database')
      .optional(),
    vault: z.enum(['database', 'keychain', 'sqlite']).default('database'),
    /** storage.sqlite: /readyz reports not ready when the database's file system has less free space than this (MiB). */
    minFreeMegabytes: z.number().int().min(0).max(1_048_576).default(64),
  })
  .refine((s) => s.sqlite === undefined || s.postgres === undefined, {
    message: 'give either storage.sqlite or storage.postgres, not both',
  })
  // Each machine has its own OS keychain: the other instances on the same PostgreSQL could not read the refresh tokens.
  .refine((s) => !(s.postgres !== undefined && s.vault === 'keychain'), {
    message: '"keychain" cannot be used with storage.postgres: each machine has its own OS keychain, so other instances could not read the refresh tokens; use "database"',
    path: ['vault'],
  })
  .transform((s): StorageConfig => ({
    ...(s.postgres !== undefined ? { postgres: s.postgres } : { sqlite: s.sqlite ?? './keyhole.db' }),
    vault: s.vault === 'keychain' ? 'keychain' : 'database',
    minFreeMegabytes: s.minFreeMegabytes,
  }))
  .default({ sqlite: './keyhole.db', vault: 'database', minFreeMegabytes: 64 });

/** The parsed block: exactly one of `sqlite` and `postgres` is set. */
export interface StorageConfig {
  sqlite?: string;
  postgres?: string;
  vault: 'database' | 'keychain';
  minFreeMegabytes: number;
}
