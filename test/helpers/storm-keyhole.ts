/**
 * The setup the refresh-storm e2e tests share (refresh-storm-sigterm, refresh-storm-sigkill): `keyhole serve` in a
 * child process on a SQLite file or a real PostgreSQL (test/helpers/postgres.ts), every call refreshing the upstream
 * token (upstreamRefreshSkewSeconds longer than its lifetime), and 4 storm grants (test/helpers/refresh-storm.ts).
 */
import { startPostgres, type PostgresServer } from './postgres.js';
import { startKeyholeProcess, type KeyholeProcess } from './keyhole-process.js';
import { makeGrants, type StormGrant } from './refresh-storm.js';

export type StormEngine = 'sqlite' | 'postgres';

export class StormKeyhole {
  kp: KeyholeProcess | undefined;
  grants: StormGrant[] = [];
  #pgServer: PostgresServer | undefined;

  constructor(
    private readonly engine: StormEngine,
    private readonly opts: { logRefreshAnswers?: boolean; logLevel?: 'debug' | 'info' } = {},
  ) {}

  /** Starts the database (PostgreSQL), keyhole, and makes the grants; what started is closed by close() even when a step fails. */
  async start(): Promise<{ kp: KeyholeProcess; grants: StormGrant[] }> {
    const { logLevel, ...processOpts } = this.opts;
    const config = { tokens: { upstreamRefreshSkewSeconds: 3600 }, ...(logLevel ? { logLevel } : {}) };
    if (this.engine === 'postgres') {
      this.#pgServer = await startPostgres();
      const url = await this.#pgServer.createDatabase();
      this.kp = await startKeyholeProcess({ config: { ...config, storage: { postgres: '${DATABASE_URL}', vault: 'database' } }, env: { DATABASE_URL: url }, ...processOpts });
    } else {
      this.kp = await startKeyholeProcess({ config, ...processOpts });
    }
    await this.kp.start();
    this.grants = await makeGrants(this.kp.mcpUrl, 4);
    return { kp: this.kp, grants: this.grants };
  }

  async close(): Promise<void> {
    await this.kp?.close();
    await this.#pgServer?.stop();
  }
}
