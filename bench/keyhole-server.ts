/**
 * keyhole itself, as a child process of the benchmark: `createKeyhole` with the real app, store, vault cipher,
 * token manager and forwarder, in front of the fast upstream. Its SQLite file is seeded beforehand by bench/seed.ts.
 * The upstream OAuth config uses explicit endpoints on a closed port: the seeded upstream access tokens are valid
 * for years, so the token endpoint is never called on the hot path (a call would fail and show up as errors).
 *
 * The config is the one the issue-17 goals name: audit on (the default: the audit queue into the store's audit log and
 * one `keyhole.audit` log line per request), and rate limits per person and per client configured high enough never
 * to be hit, so every request pays for the limiter's bookkeeping but none is refused.
 *
 * The cost ladder (bench/run.ts, `ladder`) starts more of these, each with one feature fewer: `limits: false` (no
 * rate limits configured), `logLevel: "warn"` (config: no `keyhole.audit` log line, the audit queue gets no log sink),
 * and `discardAuditRecords` (NOT a config switch, there is none: the `auditLog` option of createKeyhole, an existing
 * embedding option, given the store's audit log with an `append` that drops the batch, so no audit row is written;
 * the record is still built, queued and counted in the metrics).
 *
 * Environment: KEYHOLE_MASTER_KEY, and BENCH_KEYHOLE = JSON { dbPath | postgresUrl, upstreamUrl, port, server, … }.
 */
import { parseConfig } from '../src/config/load-config.js';
import { createKeyhole } from '../src/keyhole.js';
import { openStore } from '../src/store/open-store.js';
import type { AuditLogRepository } from '../src/store/types.js';
import { isChildEntry, serveChildProtocol } from './lib/child.js';

export interface KeyholeChildSpec {
  /** SQLite file; or */
  dbPath?: string;
  /** a PostgreSQL database (storage.postgres). */
  postgresUrl?: string;
  upstreamUrl: string;
  port: number;
  server: string;
  /** Default `http://127.0.0.1:<port>`. The ladder's keyholes share the seeded grants' resource, so its publicUrl. */
  publicUrl?: string;
  /** Rate limits per person and per client (configured, never hit). Default true. */
  limits?: boolean;
  /** Config `logLevel`; "warn" drops the per-request `keyhole.audit` line. Default the config's default (info). */
  logLevel?: 'info' | 'warn';
  /** Audit rows are not written (see the header: an embedding option, not config). Default false. */
  discardAuditRecords?: boolean;
}

export function benchConfig(spec: KeyholeChildSpec) {
  return parseConfig({
    publicUrl: spec.publicUrl ?? `http://127.0.0.1:${spec.port}`,
    ...(spec.logLevel ? { logLevel: spec.logLevel } : {}),
    listen: { host: '127.0.0.1', port: spec.port },
    storage: spec.postgresUrl ? { postgres: spec.postgresUrl, vault: 'database' } : { sqlite: spec.dbPath, vault: 'sqlite' },
    servers: {
      [spec.server]: {
        upstream: spec.upstreamUrl,
        // Configured, never hit: ~10⁶ requests per second per person and per client.
        ...(spec.limits === false ? {} : { limits: { perPerson: { requestsPerSecond: 1_000_000 }, perClient: { requestsPerSecond: 1_000_000 } } }),
        oauth: {
          authorizationEndpoint: 'http://127.0.0.1:9/authorize',
          tokenEndpoint: 'http://127.0.0.1:9/token',
          clientId: 'keyhole-bench',
          clientSecret: 'bench-upstream-client-secret',
          scopes: ['read'],
        },
      },
    },
  });
}

/** The store keyhole would open itself (same lock), and its audit log with an `append` that drops the batch. */
async function discardingAuditLog(storage: { sqlite?: string; postgres?: string }) {
  const store = await openStore(storage, { lock: true }); // keyhole's close() closes it
  const auditLog = Object.assign(Object.create(store.auditLog) as AuditLogRepository, { append: async () => undefined });
  return { store, auditLog };
}

if (isChildEntry(import.meta.url)) {
  const spec = JSON.parse(process.env.BENCH_KEYHOLE ?? '{}') as KeyholeChildSpec;
  const config = benchConfig(spec);
  const keyhole = await createKeyhole({ config, ...(spec.discardAuditRecords ? await discardingAuditLog(config.storage) : {}) });
  // BENCH_MCP_VIA=hono: serve /mcp through Hono's route instead of the plain dispatcher (to measure both ways).
  if (process.env.BENCH_MCP_VIA === 'hono') (keyhole.app as { dispatchMcp: unknown }).dispatchMcp = () => false;
  const { port } = await keyhole.listen();
  serveChildProtocol(port, () => keyhole.close());
}
