/**
 * The one-process-per-SQLite-file lock (src/store/sqlite/process-lock.ts): shared by the stores of one process,
 * refused to another process with a message naming the holder, released by the last close and by the kernel when the
 * holder dies. (The CLI end to end: test/e2e/sqlite-one-process.test.ts.)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore, SqliteLockedError } from '../../../src/store/sqlite/sqlite-store.js';
import { holdsProcessLock } from '../../../src/store/sqlite/process-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'kh-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');

/** A child process that holds the lock the way keyhole does (an exclusive lock on `<db>.lock`) and says so. */
function holder(db: string) {
  const script = `
    const Database = require(${JSON.stringify(betterSqlite)});
    const fs = require('node:fs');
    const lock = new Database(${JSON.stringify(`${db}.lock`)}, { timeout: 0 });
    lock.pragma('journal_mode = MEMORY'); lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER); COMMIT');
    fs.writeFileSync(${JSON.stringify(`${db}.lock.json`)}, JSON.stringify({ pid: process.pid, host: require('node:os').hostname(), startedAt: '2026-01-02T03:04:05.000Z' }));
    console.log('holding'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('holding') && resolve()));
  return { child, ready };
}

describe('SQLite process lock', () => {
  it('is shared by the stores of this process and released by the last close', async () => {
    const db = join(dir, 'shared.db');
    const a = openSqliteStore(db, { lock: true });
    const b = openSqliteStore(db, { lock: true });
    expect(holdsProcessLock(db)).toBe(true);
    expect(JSON.parse(readFileSync(`${db}.lock.json`, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    await a.close();
    expect(holdsProcessLock(db)).toBe(true);
    await b.close();
    await b.close(); // idempotent: released once
    expect(holdsProcessLock(db)).toBe(false);
    expect(existsSync(`${db}.lock.json`)).toBe(false);
  });

  it('refuses a store while another process holds the file, naming it; takes it once that process is killed', async () => {
    const db = join(dir, 'held.db');
    openSqliteStore(db).close();
    const h = holder(db);
    await h.ready;
    try {
      let error: unknown;
      try {
        openSqliteStore(db, { lock: true });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SqliteLockedError);
      expect((error as Error).message).toBe(
        `the SQLite database ${db} is in use by keyhole process ${h.child.pid} on host ${hostname()}, started 2026-01-02T03:04:05.000Z. ` +
        'One keyhole process per SQLite file: stop that process first, or run several instances on PostgreSQL (storage.postgres). ' +
        'Read-only commands (keyhole check, grants list, events tail) work while it runs.',
      );
      expect(holdsProcessLock(db)).toBe(false);
      const reader = openSqliteStore(db); // no lock asked: a read-only tool opens the database beside it
      expect(await reader.grants.list({ limit: 1, offset: 0 })).toEqual([]);
      await reader.close();
    } finally {
      h.child.kill('SIGKILL');
      await new Promise((r) => h.child.once('close', r));
    }
    const after = openSqliteStore(db, { lock: true }); // the kernel released the dead holder's lock
    expect(holdsProcessLock(db)).toBe(true);
    await after.close();
  });

  it('does not lock :memory: databases (two private ones open side by side, no lock file)', async () => {
    const a = openSqliteStore(':memory:', { lock: true });
    const b = openSqliteStore(':memory:', { lock: true });
    expect(existsSync(':memory:.lock')).toBe(false);
    await a.close();
    await b.close();
  });
});

describe('SQLite process lock: a foreign file where the lock should be', () => {
  it('names the file instead of failing obscurely', async () => {
    const { writeFileSync } = await import('node:fs');
    const db = join(dir, 'foreign.db');
    writeFileSync(`${db}.lock`, 'x'.repeat(4096));
    expect(() => openSqliteStore(db, { lock: true })).toThrow(`${db}.lock is not keyhole's lock file (SQLITE_NOTADB); no keyhole process can be using it as one: remove it and start again`);
    expect(holdsProcessLock(db)).toBe(false);
  });
});
