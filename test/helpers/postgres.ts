/**
 * A throw-away, real PostgreSQL server for one test file (docs: /work/shared/TESTING-NOTES.md, "PostgreSQL").
 *
 *   let pg: PostgresServer;
 *   beforeAll(async () => { pg = await startPostgres(); });
 *   afterAll(async () => { await pg?.stop(); });
 *   … const url = await pg.createDatabase(); // an empty database of its own (≈0.2 s), or reuse one and clear it
 *
 * initdb + pg_ctl in a temp directory (as the `postgres` user when running as root: the server refuses root), trust
 * authentication for the role `keyhole`, a free port on 127.0.0.1, the Unix socket in the temp directory. Durability is
 * off (fsync, synchronous_commit, full_page_writes): nothing here outlives the test run. Starting takes about 1.5 s.
 * The default collation is ICU `en-US` (not C) on purpose: the store must not depend on the database's collation.
 *
 * Missing binaries are an error naming the package to install, never a skipped test. `stop()` stops the server and
 * deletes the directory; a server still running when the test process exits is stopped then (`-m immediate`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';

export interface PostgresServer {
  /** The server's maintenance database: `postgres://keyhole@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  readonly port: number;
  /** Creates an empty database (optionally a copy of `template`) and returns its URL. */
  createDatabase(options?: { name?: string; template?: string }): Promise<string>;
  /** Stops the server and deletes its directory (idempotent). */
  stop(): Promise<void>;
}

const INSTALL_HINT = 'install the PostgreSQL server with `apt-get install -y postgresql` (.ci/run does)';

/** The directory holding initdb and pg_ctl: $KEYHOLE_PG_BIN, else the newest /usr/lib/postgresql/<major>/bin. */
export function postgresBinDir(): string {
  const fromEnv = process.env.KEYHOLE_PG_BIN;
  if (fromEnv) {
    if (!existsSync(join(fromEnv, 'initdb'))) throw new Error(`KEYHOLE_PG_BIN=${fromEnv} has no initdb: ${INSTALL_HINT}`);
    return fromEnv;
  }
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const major of majors) {
    const bin = join(root, major, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  throw new Error(`PostgreSQL server binaries (initdb, pg_ctl) not found under ${root}/<version>/bin: ${INSTALL_HINT}`);
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** The command line that runs `bin/<tool>` as the postgres user when we are root (the server refuses root). */
function asServerUser(bin: string, tool: string, args: string[]): [string, string[]] {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args];
}

function run(bin: string, tool: string, args: string[]): Promise<void> {
  const [cmd, argv] = asServerUser(bin, tool, args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', (err) => reject(new Error(`${tool}: ${err.message} (${INSTALL_HINT})`)));
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${tool} exited with ${code}:\n${output.trim()}`))));
  });
}

/** Servers of this process not stopped yet, stopped on exit in any case. */
const running = new Set<() => void>();
process.once('exit', () => {
  for (const stopNow of running) stopNow();
});

/** Starts a throw-away PostgreSQL server (see the file comment). */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const dir = await mkdtemp(join(tmpdir(), 'keyhole-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  try {
    if (isRoot) {
      const { uid, gid } = serverUser();
      chownSync(dir, uid, gid);
    }
    await run(bin, 'initdb', [
      '-D', data, '-A', 'trust', '-U', 'keyhole', '-E', 'UTF8', '--no-sync', '--no-instructions',
      '--locale=C.UTF-8', '--locale-provider=icu', '--icu-locale=en-US',
    ]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  // A free port can be taken between the probe and the bind: try a few.
  let port = 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3 && port === 0; attempt++) {
    const candidate = await freePort();
    const options = [
      `-p ${candidate}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1',
      '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off', '-c max_connections=200',
    ].join(' ');
    try {
      await run(bin, 'pg_ctl', ['-D', data, '-l', log, '-w', '-t', '30', '-o', options, 'start']);
      port = candidate;
    } catch (err) {
      lastError = err;
    }
  }
  if (port === 0) {
    const serverLog = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    await rm(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${(lastError as Error)?.message}\n${serverLog}`);
  }

  const stopNow = () => {
    const [cmd, argv] = asServerUser(bin, 'pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
    spawnSync(cmd, argv, { stdio: 'ignore' });
  };
  running.add(stopNow);

  const url = `postgres://keyhole@127.0.0.1:${port}/postgres`;
  let databases = 0;
  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    async createDatabase(options = {}) {
      const name = options.name ?? `keyhole_test_${++databases}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        const template = options.template ? ` TEMPLATE ${admin.escapeIdentifier(options.template)}` : '';
        await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}${template}`);
      } finally {
        await admin.end();
      }
      return `postgres://keyhole@127.0.0.1:${port}/${encodeURIComponent(name)}`;
    },
    stop() {
      stopped ??= (async () => {
        running.delete(stopNow);
        try {
          await run(bin, 'pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
        } catch {
          stopNow();
        }
        await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/** The uid/gid of the `postgres` user (the Debian package creates it). */
function serverUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error(`no "postgres" user on this machine: ${INSTALL_HINT}`);
  return { uid: Number(uid), gid: Number(gid) };
}
