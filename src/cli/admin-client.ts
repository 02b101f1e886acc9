/**
 * Where `keyhole grants …` and `keyhole events …` send their admin API calls:
 * - `--url URL`: a running keyhole's admin JSON API, with the bearer token from KEYHOLE_ADMIN_TOKEN;
 * - `--config FILE`: the database directly, through the same API served in-process (keyhole stopped), so both
 *   paths give the same answers and a revocation goes through the same GrantRevoker (tokens, vault, upstream
 *   RFC 7009 revocation, events).
 */
import { randomBytes } from 'node:crypto';
import { loadConfigFile } from '../config/load-config.js';
import { createKeyhole } from '../keyhole.js';
import { loadKeyring } from '../vault/key-sources.js';
import { UsageError, type CliIo } from './io.js';

export const ADMIN_TOKEN_ENV = 'KEYHOLE_ADMIN_TOKEN';

export interface AdminClient {
  /** Sends one admin API request; resolves to the JSON answer, or throws AdminApiError on a non-2xx status. */
  call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export class AdminApiError extends Error {
  override name = 'AdminApiError';
  constructor(readonly status: number, description: string) {
    super(`the admin API answered HTTP ${status}: ${description}`);
  }
}

async function decode(res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    if (res.ok) throw new AdminApiError(res.status, 'the answer is not JSON');
  }
  if (!res.ok) throw new AdminApiError(res.status, String(json.error_description ?? json.error ?? text.slice(0, 200)));
  return json;
}

function request(method: string, token: string, body?: unknown): RequestInit {
  return {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  };
}

/**
 * `readOnly`: the command only reads (grants list, events tail). With --config on SQLite it then does not take the
 * one-process-per-file lock, so it works beside a running keyhole; a writing command (grants revoke) meets the lock
 * error and is told to use --url (the running keyhole must see the revocation: its caches and open streams).
 */
export async function adminClient(target: { url?: string | undefined; config?: string | undefined }, command: string, io: CliIo, options: { readOnly?: boolean } = {}): Promise<AdminClient> {
  if (!!target.url === !!target.config) throw new UsageError(`${command} needs either --url URL (a running keyhole) or --config FILE (keyhole stopped)`, command);
  if (target.url) {
    const token = io.env[ADMIN_TOKEN_ENV];
    if (!token) throw new UsageError(`--url needs the admin token in ${ADMIN_TOKEN_ENV}`, command);
    let base: URL;
    try {
      base = new URL(target.url);
    } catch {
      throw new UsageError(`--url ${JSON.stringify(target.url)} is not a URL`, command);
    }
    return {
      async call(method, path, body) {
        let res: Response;
        try {
          res = await fetch(new URL(path, base), { ...request(method, token, body), signal: AbortSignal.timeout(30_000) });
        } catch (e) {
          const cause = (e as { cause?: { code?: string } }).cause?.code;
          throw new Error(`cannot reach keyhole at ${base.origin}${cause ? ` (${cause})` : ''}; is it running? (stopped: use --config FILE)`);
        }
        return decode(res);
      },
      close: async () => undefined,
    };
  }
  const config = loadConfigFile(target.config!, io.env);
  const keyring = await loadKeyring(config, { env: io.env });
  const token = randomBytes(32).toString('base64url');
  // Event lines go to the database only; the command prints its own results.
  const keyhole = await createKeyhole({ config: { ...config, admin: { token } }, keyring, log: () => undefined, processLock: !options.readOnly });
  return {
    async call(method, path, body) {
      return decode(await keyhole.app.request(path, request(method, token, body)));
    },
    close: () => keyhole.close(),
  };
}

/** The --url/--config options every admin command takes. */
export const TARGET_OPTIONS = {
  url: { type: 'string' },
  config: { type: 'string', short: 'c' },
} as const;

export const TARGET_HELP = `  --url URL            a running keyhole (its publicUrl); the admin token comes from ${ADMIN_TOKEN_ENV}
  -c, --config FILE    instead: work on the database directly (only while keyhole is stopped)`;
