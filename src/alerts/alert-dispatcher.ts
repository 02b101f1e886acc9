/**
 * Delivers alerts to `alerts.webhook` as signed JSON, off the hot path. `send()` never blocks and never throws:
 * it deduplicates (one alert per `key` per minute), reports the alert through `onAlert` (the lead records it as
 * an event), and queues it (bounded; a full queue drops and counts). One worker POSTs the queue in order, each
 * alert up to `maxAttempts` times with exponential backoff on a network error, a timeout, 408, 429 or 5xx.
 * Redirects are not followed. Every attempt of an alert sends the same body (same `id`), so a receiver can
 * discard repeats.
 *
 * Body: `{"id","source":"keyhole","kind","summary","at","timestamp","detail"}` (`timestamp`: Unix seconds when
 * the alert was queued; receivers should refuse old ones). Header `X-Keyhole-Signature: sha256=<hex>`, the
 * HMAC-SHA256 of the raw body bytes under `alerts.secret`.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AlertsConfig } from '../config/observability-schema.js';
import { realTimers, type Timers } from '../audit/audit-queue.js';
import type { Alert } from './alert-triggers.js';

export const SIGNATURE_HEADER = 'X-Keyhole-Signature';
const DEDUP_MS = 60_000;

export function signAlertBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** For receivers (and keyhole's own tests of them): constant-time check of the signature header. */
export function verifyAlertSignature(body: string, header: string | null | undefined, secret: string): boolean {
  if (typeof header !== 'string') return false;
  const want = Buffer.from(signAlertBody(body, secret));
  const got = Buffer.from(header);
  return got.length === want.length && timingSafeEqual(got, want);
}

export type DeliveryFailure = 'queue_full' | 'closed' | 'refused' | 'gave_up';

export interface AlertDispatcherOptions {
  config: Pick<AlertsConfig, 'webhook' | 'secret' | 'timeoutMs' | 'maxAttempts'>;
  onAlert?: (alert: Alert) => void;
  /** An alert that will not be delivered, and why (`refused`: a 3xx/4xx answer; `gave_up`: attempts exhausted). */
  onDeliveryFailure?: (alert: Alert, reason: DeliveryFailure, status: number | null) => void;
  fetch?: typeof fetch;
  now?: () => number;
  timers?: Timers;
  /** Alerts waiting at most. Default 100. */
  maxQueue?: number;
  /** First retry delay; doubles each attempt. Default 1 000 ms. */
  backoffMs?: number;
  newId?: () => string;
}

export interface AlertStats { queued: number; delivered: number; deduplicated: number; dropped: number; failed: number }

export interface AlertDispatcher {
  send(alert: Alert | null): void;
  /** Resolves when the queue is empty (delivered or given up). */
  flush(): Promise<void>;
  close(): Promise<void>;
  readonly stats: Readonly<AlertStats>;
}

export function createAlertDispatcher(opts: AlertDispatcherOptions): AlertDispatcher {
  const { config } = opts;
  if (!/^https?:\/\//.test(config?.webhook ?? '')) throw new TypeError('createAlertDispatcher: config.webhook must be an http(s) URL');
  if (typeof config.secret !== 'string' || config.secret.length < 16) throw new TypeError('createAlertDispatcher: config.secret must be at least 16 characters');
  for (const k of ['timeoutMs', 'maxAttempts'] as const) {
    if (!Number.isInteger(config[k]) || config[k] < 1) throw new TypeError(`createAlertDispatcher: config.${k} must be a positive integer`);
  }
  const webhook = new URL(config.webhook);
  const doFetch = opts.fetch ?? fetch;
  const now = opts.now ?? Date.now;
  const timers = opts.timers ?? realTimers;
  const maxQueue = opts.maxQueue ?? 100;
  const backoffMs = opts.backoffMs ?? 1_000;
  const newId = opts.newId ?? (() => `al_${randomUUID().replace(/-/g, '')}`);
  const stats: AlertStats = { queued: 0, delivered: 0, deduplicated: 0, dropped: 0, failed: 0 };
  const lastSent = new Map<string, number>();
  const queue: Array<{ alert: Alert; body: string }> = [];
  let working: Promise<void> | undefined;
  let closed = false;

  const hook = (fn: () => void) => { try { fn(); } catch { /* hooks never break delivery */ } };
  const fail = (alert: Alert, reason: DeliveryFailure, status: number | null) => hook(() => opts.onDeliveryFailure?.(alert, reason, status));
  const sleep = (ms: number) => new Promise<void>((resolve) => { timers.setTimeout(resolve, ms); });

  /** 'ok', 'retry' (worth another attempt) or the refusing status. */
  async function post(body: string): Promise<'ok' | 'retry' | number> {
    try {
      const res = await doFetch(webhook, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', [SIGNATURE_HEADER]: signAlertBody(body, config.secret), 'User-Agent': 'keyhole-alerts' },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(config.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined); // free the connection
      if (res.status >= 200 && res.status < 300) return 'ok';
      if (res.status === 408 || res.status === 429 || res.status >= 500) return 'retry';
      return res.status;
    } catch {
      return 'retry'; // network error or timeout
    }
  }

  async function deliver(alert: Alert, body: string): Promise<void> {
    for (let attempt = 1; attempt <= config.maxAttempts; attempt++) {
      const r = await post(body);
      if (r === 'ok') { stats.delivered++; return; }
      if (r !== 'retry') { stats.failed++; return fail(alert, 'refused', r); }
      if (attempt < config.maxAttempts) await sleep(backoffMs * 2 ** (attempt - 1));
    }
    stats.failed++;
    fail(alert, 'gave_up', null);
  }

  function work(): Promise<void> {
    working ??= (async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await deliver(next.alert, next.body);
    })().finally(() => { working = undefined; });
    return working;
  }

  function prune(t: number): void {
    if (lastSent.size < 1_000) return;
    for (const [k, at] of lastSent) if (t - at >= DEDUP_MS) lastSent.delete(k);
  }

  return {
    send(alert) {
      if (!alert) return;
      try {
        const t = now();
        const last = lastSent.get(alert.key);
        if (last !== undefined && t - last < DEDUP_MS) { stats.deduplicated++; return; }
        prune(t);
        lastSent.set(alert.key, t);
        hook(() => opts.onAlert?.(alert));
        if (closed) { stats.dropped++; return fail(alert, 'closed', null); }
        if (queue.length >= maxQueue) { stats.dropped++; return fail(alert, 'queue_full', null); }
        const body = JSON.stringify({
          id: newId(), source: 'keyhole', kind: alert.kind, summary: alert.summary,
          at: new Date(alert.at).toISOString(), timestamp: Math.floor(t / 1_000), detail: alert.detail,
        });
        queue.push({ alert, body });
        stats.queued++;
        void work();
      } catch { /* never throws to the caller */ }
    },
    async flush() {
      while (working) await working;
    },
    async close() {
      closed = true;
      while (working) await working;
    },
    get stats() { return { ...stats }; },
  };
}
