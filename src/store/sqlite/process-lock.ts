/**
 * One keyhole process per SQLite file (issue 12 §2, "SQLite, honestly"). Two processes on one file would each keep
 * their own caches, open streams and upstream refreshes, and nothing would coordinate them (with single-use upstream
 * refresh tokens, a double refresh ends the grant). So a second process meets a clear startup error naming the first.
 *
 * How: Node has no flock(2), but SQLite takes POSIX advisory locks (fcntl) on its files, and the kernel releases them
 * when the holding process exits, however it exits (SIGKILL included). The lock is an exclusive SQLite lock on a
 * side file `<db>.lock` (a tiny SQLite database of its own, `locking_mode = EXCLUSIVE`, held from startup to close).
 * That beats a pid file: no stale lock to detect and take over (pid reuse, containers with the same pid, a host
 * rename), and no window between "the holder died" and "someone noticed". The holder also writes who it is
 * (pid, host, start time) to `<db>.lock.json` for the second process's error message; that file is only a label.
 * https://www.sqlite.org/pragma.html#pragma_locking_mode, https://www.sqlite.org/lockingv3.html
 *
 * Within one process, stores opened on the same file share the lock (counted; released by the last close). The main
 * database file itself is not locked: read-only commands (`keyhole check`, `grants list --config`, `events tail
 * --config`) open it while the server runs (WAL allows concurrent readers).
 *
 * Limits: advisory locks only bind processes that take them (every keyhole does); like SQLite itself, this needs a
 * local file system (not NFS).
 */
import { readFileSync, realpathSync, renameSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';

/** Another process holds the database. */
export class SqliteLockedError extends Error {
  override name = 'SqliteLockedError';
}

export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
}

interface Held {
  db: Database.Database;
  count: number;
  infoPath: string;
}

const held = new Map<string, Held>();

/** The canonical path of a database file (the lock key), following symlinks of an existing file. */
export function canonicalDatabasePath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

export function lockPaths(dbPath: string): { lock: string; info: string } {
  const real = canonicalDatabasePath(dbPath);
  const lock = join(dirname(real), `${basename(real)}.lock`);
  return { lock, info: `${lock}.json` };
}

/** Who holds the lock, as written by the holder (undefined when unknown). */
export function readLockOwner(dbPath: string): LockOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(lockPaths(dbPath).info, 'utf8')) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.startedAt === 'string') return { pid: o.pid, host: o.host, startedAt: o.startedAt };
  } catch {
    /* no label (yet) */
  }
  return undefined;
}

/**
 * Takes the process lock of the SQLite file `dbPath` (see the file comment); throws SqliteLockedError naming the
 * holder when another process has it. Returns the release function (idempotent).
 */
export function acquireProcessLock(dbPath: string, startedAt: Date = new Date()): () => void {
  const key = canonicalDatabasePath(dbPath);
  const mine = held.get(key);
  if (mine) {
    mine.count++;
    return once(() => release(key));
  }
  const { lock, info } = lockPaths(dbPath);
  closeSync(openSync(lock, 'a', 0o600)); // owner-only, like the database
  const db = new Database(lock, { timeout: 0 });
  try {
    db.pragma('journal_mode = MEMORY'); // no -journal file beside it
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER); COMMIT'); // from here on the lock stays held
  } catch (e) {
    db.close();
    const code = (e as { code?: string }).code;
    if (code === 'SQLITE_BUSY') throw lockedError(dbPath);
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new SqliteLockedError(`${lock} is not keyhole's lock file (${code}); no keyhole process can be using it as one: remove it and start again`);
    }
    throw e;
  }
  const owner: LockOwner = { pid: process.pid, host: hostname(), startedAt: startedAt.toISOString() };
  const tmp = `${info}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(owner)}\n`, { mode: 0o600 });
  renameSync(tmp, info);
  held.set(key, { db, count: 1, infoPath: info });
  return once(() => release(key));
}

/** Whether this process holds the lock of `dbPath` (tests). */
export function holdsProcessLock(dbPath: string): boolean {
  return held.has(canonicalDatabasePath(dbPath));
}

function release(key: string): void {
  const h = held.get(key);
  if (!h || --h.count > 0) return;
  held.delete(key);
  rmSync(h.infoPath, { force: true }); // the label first: the next holder writes its own after taking the lock
  h.db.close(); // releases the kernel lock; the lock file stays (unlinking it could let two processes hold two inodes)
}

function lockedError(dbPath: string): SqliteLockedError {
  const owner = readLockOwner(dbPath);
  const who = owner ? `keyhole process ${owner.pid} on host ${owner.host}, started ${owner.startedAt}` : 'another keyhole process';
  return new SqliteLockedError(
    `the SQLite database ${dbPath} is in use by ${who}. One keyhole process per SQLite file: stop that process first, ` +
    'or run several instances on PostgreSQL (storage.postgres). Read-only commands (keyhole check, grants list, events tail) work while it runs.',
  );
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
