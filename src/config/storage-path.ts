/**
 * Filesystem checks on the config's paths, made before anything opens them: SQLite cannot create the file of
 * `storage.sqlite` in a directory that does not exist, and would fail with a bare ENOENT.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { KeyholeConfig } from './schema.js';

/** Why keyhole cannot create or write `storage.sqlite`, naming the field and the directory; undefined when it can. */
export function storagePathProblem(config: Pick<KeyholeConfig, 'storage'>): string | undefined {
  if (config.storage.sqlite === undefined) return undefined; // storage.postgres: no file
  const file = resolve(config.storage.sqlite);
  const dir = dirname(file);
  if (!existsSync(dir)) return `storage.sqlite: the directory ${dir} does not exist (create it, or change storage.sqlite)`;
  if (!statSync(dir).isDirectory()) return `storage.sqlite: ${dir} is not a directory`;
  try {
    accessSync(existsSync(file) ? file : dir, constants.W_OK);
  } catch {
    return `storage.sqlite: ${existsSync(file) ? file : `the directory ${dir}`} is not writable by this user`;
  }
  return undefined;
}
