/**
 * Health endpoints for orchestrators:
 * - `GET /healthz` (liveness): 200 `{"status":"ok"}` while the process serves HTTP, nothing else checked;
 * - `GET /readyz` (readiness): runs every named check at once, each under its own timeout, and answers 200
 *   `{"status":"ready","checks":{…}}` when all pass, else 503 `{"status":"not_ready","failed":[names],…}`.
 *   A `detail` section carries information that is no verdict (circuit states, …). A check's failure is named by
 *   its error's name or `timeout`, never its message (messages can carry paths or hosts). While draining (SIGTERM)
 *   it answers 503 `{"status":"draining"}`.
 * Both send `Cache-Control: no-store`.
 */
import { Hono } from 'hono';

export interface ReadinessCheck {
  /** e.g. `database writable`, `keyring loaded`, `keychain answers`, `disk space`. */
  name: string;
  /** Resolves (any value) when healthy; rejects, or resolves `false`, when not. */
  check: () => Promise<unknown>;
  /** Default 2 000 ms. */
  timeoutMs?: number;
}

export interface CheckResult {
  ok: boolean;
  durationMs: number;
  /** `timeout`, `false`, or the error's name; absent when ok. */
  error?: string;
}

export interface HealthRoutesOptions {
  checks: readonly ReadinessCheck[];
  /** Non-verdict information, e.g. `{ circuits: { demo: 'open' } }`. */
  detail?: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  now?: () => number;
  /** True once a graceful shutdown began: `/readyz` answers 503 `{"status":"draining"}` without running the checks. */
  draining?: () => boolean;
}

async function runCheck(c: ReadinessCheck, now: () => number): Promise<CheckResult> {
  const started = now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), c.timeoutMs ?? 2_000); timer.unref(); });
  try {
    const value = await Promise.race([Promise.resolve().then(c.check), timeout]);
    const durationMs = now() - started;
    if (value === 'timeout') return { ok: false, durationMs, error: 'timeout' };
    if (value === false) return { ok: false, durationMs, error: 'false' };
    return { ok: true, durationMs };
  } catch (error) {
    return { ok: false, durationMs: now() - started, error: error instanceof Error ? error.name : 'Error' };
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(opts: HealthRoutesOptions): Hono {
  const names = new Set<string>();
  for (const c of opts.checks) {
    if (typeof c.name !== 'string' || c.name.length === 0) throw new TypeError('healthRoutes: every check needs a name');
    if (names.has(c.name)) throw new TypeError(`healthRoutes: two checks are named "${c.name}"`);
    if (typeof c.check !== 'function') throw new TypeError(`healthRoutes: check "${c.name}" needs a check function`);
    if (c.timeoutMs !== undefined && (!Number.isInteger(c.timeoutMs) || c.timeoutMs < 1)) throw new TypeError(`healthRoutes: check "${c.name}" timeoutMs must be a positive integer`);
    names.add(c.name);
  }
  const now = opts.now ?? Date.now;
  const app = new Hono();
  app.get('/healthz', function liveness(c) {
    c.header('Cache-Control', 'no-store');
    return c.json({ status: 'ok' });
  });
  app.get('/readyz', async function readiness(c) {
    c.header('Cache-Control', 'no-store');
    // A draining instance takes no new work: the load balancer stops sending it any (src/http/drain.ts).
    if (opts.draining?.()) return c.json({ status: 'draining' }, 503);
    const results = await Promise.all(opts.checks.map((check) => runCheck(check, now)));
    const checks: Record<string, CheckResult> = {};
    opts.checks.forEach((check, i) => { checks[check.name] = results[i]!; });
    const failed = opts.checks.filter((_, i) => !results[i]!.ok).map((check) => check.name);
    let detail: Record<string, unknown> | undefined;
    try { detail = opts.detail ? await opts.detail() : undefined; } catch { detail = { error: 'detail unavailable' }; }
    const body = { status: failed.length ? 'not_ready' : 'ready', ...(failed.length ? { failed } : {}), checks, ...(detail ? { detail } : {}) };
    return c.json(body, failed.length ? 503 : 200);
  });
  return app;
}
