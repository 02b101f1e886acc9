/**
 * `keyhole serve` in a child process (bin/keyhole.js, dist/ rebuilt when stale) in front of real upstream peers
 * started in the test process: oidc-provider (rotating refresh tokens) and an SDK MCP server. The port, config file
 * and database stay the same across `start()` calls, so a test can kill keyhole and start it again (restart,
 * SIGKILL and SIGTERM tests). oidc-provider's `invalid_grant` answers are counted (`invalidGrants`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUpstreamAuthorizationServer, type UpstreamAs } from '../../examples/demo/upstream-authorization-server.js';
import { startUpstreamMcpServer, type UpstreamMcp } from '../../examples/demo/upstream-mcp-server.js';
import { ensureBuiltCli, ROOT, startCli, type CliResult } from './keyhole-cli.js';
import { freePort } from './free-port.js';

export interface KeyholeProcessOptions {
  /** Upstream access-token lifetime (oidc-provider), seconds. */
  upstreamAccessTokenTtlSeconds?: number;
  /** Extra top-level config (tokens, shutdown, storage, …). */
  config?: Record<string, unknown>;
  /** Extra environment of the keyhole process. */
  env?: NodeJS.ProcessEnv;
  /** Log, in keyhole's process, each refresh answer it received in full (test/fixtures/log-refresh-answers.cjs). */
  logRefreshAnswers?: boolean;
}

export interface RunningKeyhole {
  child: ReturnType<typeof startCli>['child'];
  done: Promise<CliResult>;
  stderr(): string;
}

export interface KeyholeProcess {
  publicUrl: string;
  mcpUrl: string;
  port: number;
  dir: string;
  dbPath: string;
  configFile: string;
  masterKey: string;
  as: UpstreamAs;
  mcp: UpstreamMcp;
  /** `invalid_grant` errors oidc-provider answered at its token endpoint (a spent refresh token replayed, …). */
  invalidGrants: () => number;
  /** Per `invalid_grant` for a replayed refresh token: when oidc-provider had answered the refresh that spent it. */
  replays: () => ReadonlyArray<{ spentAt: number | undefined; fp: string | undefined }>;
  /** With `logRefreshAnswers`: sha256 of each refresh token whose refresh answer keyhole received in full → when (ms). */
  receivedRefreshAnswers: () => Map<string, number>;
  /** Refresh-token grants oidc-provider answered with tokens. */
  refreshes: () => number;
  /** Starts `keyhole serve` (optionally with another config) and resolves once it listens. */
  start(over?: { config?: Record<string, unknown>; env?: NodeJS.ProcessEnv }): Promise<RunningKeyhole>;
  running(): RunningKeyhole | undefined;
  /** Stops the upstream peers, kills a keyhole still running and deletes the directory. */
  close(): Promise<void>;
}

export async function startKeyholeProcess(opts: KeyholeProcessOptions = {}): Promise<KeyholeProcess> {
  await ensureBuiltCli();
  const dir = mkdtempSync(join(tmpdir(), 'keyhole-proc-'));
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const client = { clientId: 'keyhole', clientSecret: randomBytes(24).toString('base64url') };
  const as = await startUpstreamAuthorizationServer({ clients: [{ ...client, redirectUris: [`${publicUrl}/oauth/callback`] }], accessTokenTtlSeconds: opts.upstreamAccessTokenTtlSeconds ?? 300 });
  const mcp = await startUpstreamMcpServer({ issuer: as.issuer });
  as.addResource(mcp.url);
  let invalid = 0;
  let refreshes = 0;
  // When oidc-provider answered the refresh that spent each refresh token (opaque tokens: the value is the id).
  const spentAt = new Map<string, number>();
  const replays: Array<{ spentAt: number | undefined; fp: string | undefined }> = [];
  type Ctx = { oidc?: { params?: { grant_type?: string; refresh_token?: string } } };
  as.provider.on('grant.error', (ctx: Ctx, err: { error?: string }) => {
    if (err?.error !== 'invalid_grant') return;
    invalid++;
    const presented = ctx.oidc?.params?.refresh_token;
    replays.push({ spentAt: presented ? spentAt.get(presented) : undefined, fp: presented ? createHash('sha256').update(presented).digest('hex') : undefined });
  });
  as.provider.on('grant.success', (ctx: Ctx) => {
    if (ctx.oidc?.params?.grant_type !== 'refresh_token') return;
    refreshes++;
    if (ctx.oidc.params.refresh_token) spentAt.set(ctx.oidc.params.refresh_token, Date.now());
  });
  const dbPath = join(dir, 'keyhole.db');
  const configFile = join(dir, 'keyhole.json');
  const masterKey = randomBytes(32).toString('base64url');
  const baseConfig = (over: Record<string, unknown> = {}) => ({
    publicUrl,
    listen: { host: '127.0.0.1', port },
    storage: { sqlite: dbPath, vault: 'database' },
    ...opts.config,
    ...over,
    servers: {
      demo: { upstream: mcp.url, oauth: { issuer: as.issuer, ...client, scopes: ['openid', 'offline_access', 'mcp:tools'], resource: mcp.url } },
    },
  });
  let current: RunningKeyhole | undefined;
  return {
    publicUrl, mcpUrl: `${publicUrl}/mcp/demo`, port, dir, dbPath, configFile, masterKey, as, mcp,
    invalidGrants: () => invalid,
    replays: () => replays,
    receivedRefreshAnswers: () => {
      const log = join(dir, 'refresh-answers.log');
      if (!existsSync(log)) return new Map();
      return new Map(readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { fp: string; at: number }).map((r) => [r.fp, r.at]));
    },
    refreshes: () => refreshes,
    running: () => current,
    async start(over = {}) {
      writeFileSync(configFile, JSON.stringify(baseConfig(over.config)));
      const logging = opts.logRefreshAnswers
        ? { nodeArgs: ['--require', join(ROOT, 'test', 'fixtures', 'log-refresh-answers.cjs')], env: { KEYHOLE_TEST_REFRESH_LOG: join(dir, 'refresh-answers.log') } }
        : { nodeArgs: [], env: {} };
      const run = startCli(['serve', '--config', configFile], {
        env: { ...process.env, KEYHOLE_MASTER_KEY: masterKey, ...logging.env, ...opts.env, ...over.env }, timeoutMs: 300_000, nodeArgs: logging.nodeArgs,
      });
      current = { child: run.child, done: run.done, stderr: run.stderr };
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          if (run.stderr().includes('"keyhole.listening"')) {
            run.child.stderr!.off('data', check);
            resolve();
          }
        };
        run.child.stderr!.on('data', check);
        void run.done.then((r) => reject(new Error(`keyhole serve ended before listening (code ${r.code}, signal ${r.signal}):\n${r.stderr.slice(-3000)}`)));
        check();
      });
      return current;
    },
    async close() {
      if (current && current.child.exitCode === null && current.child.signalCode === null) {
        current.child.kill('SIGKILL');
        await current.done;
      }
      await mcp.close();
      await as.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
