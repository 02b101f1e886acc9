/**
 * Client ID Metadata Documents: a `client_id` that is an https URL names a JSON document that the client hosts.
 * keyhole fetches it (SSRF-guarded, src/http/guarded-fetch.ts), validates it, caches it per its HTTP caching
 * headers, and persists a `ClientRecord` of kind 'cimd' (client id = the URL) so that grants and the admin pages
 * can name it. The consent page marks such a client "verified domain <host>".
 * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-client-id-metadata-document/
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#client-id-metadata-documents
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { CimdConfig } from '../config/schema.js';
import type { ClientRecord, Store } from '../store/types.js';
import type { EventRecorder } from '../events/recorder.js';
import { InvalidClientError } from '../oauth/errors.js';
import { redirectUriProblem } from '../oauth/redirect-uri.js';
import { GuardedFetchError, guardedGet, type ResolveHost } from '../http/guarded-fetch.js';
import type { Logger } from '../http/logger.js';
import { parseJsonObject } from '../http/json-object.js';
import { freshnessSeconds } from '../http/freshness.js';
import { LruMap } from '../http/lru-map.js';

/** A refusal of a client ID metadata document. `transient`: the document could not be fetched right now. */
export class ClientMetadataDocumentError extends InvalidClientError {
  constructor(message: string, readonly transient = false) {
    super(message);
  }
}

/** Is this client_id meant as a metadata document URL (so never looked up as a DCR or static id)? */
export function isMetadataDocumentClientId(clientId: string): boolean {
  return /^https?:\/\//i.test(clientId);
}

/**
 * Why `clientId` cannot be a client ID metadata document URL, or undefined.
 * https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document#section-3 — https scheme, a path
 * component, no dot segments, no fragment, no user info. keyhole also requires the normalised form, since the
 * document's `client_id` must equal it byte for byte.
 */
export function metadataDocumentUrlProblem(clientId: string): string | undefined {
  if (clientId.length > 2_000) return 'is longer than 2000 characters';
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return 'is not a valid URL';
  }
  if (url.protocol !== 'https:') return 'must use https';
  if (url.username || url.password) return 'must not contain a user name or password';
  if (clientId.includes('#')) return 'must not contain a fragment';
  if (url.pathname === '/' || url.pathname === '') return 'must have a path (e.g. https://app.example.com/oauth/client.json)';
  if (url.href !== clientId) return `must be in normalised form (${JSON.stringify(url.href.slice(0, 200))}): no dot segments, lowercase scheme and host`;
  return undefined;
}

const text = (max: number) => z.string().max(max);

/**
 * The document. Bounded, public-client only: no shared secret can exist for a document anyone can read.
 * https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document#section-4.1
 */
const documentSchema = z.looseObject({
  client_id: z.string(),
  redirect_uris: z.array(text(2_000)).min(1, 'at least one redirect URI is required').max(20, 'at most 20 redirect URIs'),
  token_endpoint_auth_method: z.string().optional(),
  grant_types: z.array(text(100)).max(10).optional(),
  response_types: z.array(text(100)).max(10).optional(),
  client_name: text(200).optional(),
  client_uri: text(500).optional(),
  logo_uri: text(500).optional(),
  policy_uri: text(500).optional(),
  tos_uri: text(500).optional(),
  scope: text(1_000).optional(),
  contacts: z.array(text(200)).max(10).optional(),
  software_id: text(200).optional(),
  software_version: text(200).optional(),
});

/** Validates a fetched document for `url`; returns the metadata keyhole stores. Throws ClientMetadataDocumentError. */
export function validateMetadataDocument(url: string, body: Buffer): Record<string, unknown> {
  const fail = (why: string): never => {
    throw new ClientMetadataDocumentError(`the client metadata document at ${url} ${why}`);
  };
  const raw = parseJsonObject(body.toString('utf8'));
  if (!raw.ok) return fail(raw.reason === 'not-json' ? 'is not valid JSON' : 'is not a JSON object');
  const doc = raw.value;
  if (Object.keys(doc).length > 40) fail('has too many fields');
  const parsed = documentSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    fail(`is invalid: ${issue.path.map(String).join('.') || 'document'}: ${issue.message}`);
  }
  const meta = parsed.data!;
  // https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document#section-4.1 — "MUST contain
  // a client_id property whose value MUST match the URL of the document using simple string comparison".
  if (meta.client_id !== url) fail(`names another client_id (${JSON.stringify(meta.client_id.slice(0, 200))}): it must equal the document URL exactly`);
  // Same section: shared-secret authentication and client_secret fields MUST NOT be used.
  for (const k of ['client_secret', 'client_secret_expires_at']) if (k in doc) fail(`must not contain ${k}`);
  if (meta.token_endpoint_auth_method !== undefined && meta.token_endpoint_auth_method !== 'none') {
    fail(`asks for token_endpoint_auth_method ${JSON.stringify(meta.token_endpoint_auth_method.slice(0, 50))}: keyhole accepts only public clients ("none") with a metadata document`);
  }
  for (const uri of meta.redirect_uris) {
    const problem = redirectUriProblem(uri);
    if (problem) fail(`has a redirect URI ${JSON.stringify(uri.slice(0, 200))} that ${problem}`);
  }
  if (meta.grant_types && !meta.grant_types.includes('authorization_code')) fail('has grant_types without authorization_code');
  if (meta.response_types && !meta.response_types.includes('code')) fail('has response_types without code');
  return {
    ...doc,
    token_endpoint_auth_method: 'none',
    grant_types: meta.grant_types ? meta.grant_types.filter((g) => g === 'authorization_code' || g === 'refresh_token') : ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  };
}

export interface ClientIdMetadataResolverOptions {
  store: Store;
  events: EventRecorder;
  /** Seconds since the epoch (record times). */
  clock: () => number;
  config: CimdConfig;
  /** Milliseconds (cache freshness). Defaults to Date.now. */
  nowMs?: () => number;
  /** DNS resolution; defaults to dns.lookup. */
  resolve?: ResolveHost;
  /** Operator log: the full reason for a refused fetch (it may name resolved addresses, which clients never see). */
  logger?: Logger;
}

type CacheEntry = { ok: true; freshUntil: number } | { ok: false; error: ClientMetadataDocumentError; freshUntil: number };

/** Refusals (not transient failures) are remembered briefly, so a bad client_id cannot make keyhole fetch in a loop. */
const NEGATIVE_CACHE_MS = 10_000;
/** At most this many documents are fetched at once (each may hold a connection for the whole timeout). */
const MAX_CONCURRENT_FETCHES = 16;

export class ClientIdMetadataResolver {
  readonly #store: Store;
  readonly #events: EventRecorder;
  readonly #clock: () => number;
  readonly #nowMs: () => number;
  readonly #config: CimdConfig;
  readonly #extraCa: string | undefined;
  readonly #resolve: ResolveHost | undefined;
  readonly #logger: Logger | undefined;
  /** url → freshness of the stored record; the oldest remembered is evicted first (reads do not refresh it). */
  readonly #cache: LruMap<string, CacheEntry>;
  /** One fetch per URL at a time. */
  readonly #inFlight = new Map<string, Promise<ClientRecord>>();

  constructor(opts: ClientIdMetadataResolverOptions) {
    this.#store = opts.store;
    this.#events = opts.events;
    this.#clock = opts.clock;
    this.#nowMs = opts.nowMs ?? Date.now;
    this.#config = opts.config;
    this.#cache = new LruMap(opts.config.maxCacheEntries);
    this.#resolve = opts.resolve;
    this.#logger = opts.logger;
    if (opts.config.extraCa) {
      try {
        this.#extraCa = readFileSync(opts.config.extraCa, 'utf8');
      } catch (e) {
        throw new Error(`cimd.extraCa: ${opts.config.extraCa} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      if (!this.#extraCa.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`cimd.extraCa: ${opts.config.extraCa} holds no PEM certificate`);
    }
  }

  get enabled(): boolean {
    return this.#config.enabled;
  }

  /**
   * The client for a metadata document URL: the stored record while the cached document is fresh, otherwise the
   * document is fetched, validated and the record created or refreshed. Throws ClientMetadataDocumentError.
   * A blocked client is returned as is, without a fetch (the caller refuses it).
   *
   * `mode: 'token'` (token and revocation endpoints): only a client that already went through /authorize is
   * resolved (no record → refused without a fetch), and a transient fetch failure falls back to the stored record.
   */
  async resolve(clientId: string, mode: 'authorize' | 'token' = 'authorize'): Promise<ClientRecord> {
    if (!this.#config.enabled) throw new ClientMetadataDocumentError('this server does not accept client ID metadata documents: register the client first');
    const problem = metadataDocumentUrlProblem(clientId);
    if (problem) throw new ClientMetadataDocumentError(`a URL client_id (client ID metadata document) ${problem}`);
    const stored = await this.#store.clients.find(clientId);
    if (stored && stored.kind !== 'cimd') throw new ClientMetadataDocumentError('this client_id is registered as another kind of client');
    if (stored?.blockedAt != null) return stored;
    if (mode === 'token' && !stored) throw new ClientMetadataDocumentError('unknown client: authorize first');

    const now = this.#nowMs();
    const cached = this.#cache.peek(clientId);
    if (cached && cached.freshUntil > now) {
      if (!cached.ok) throw cached.error;
      if (stored) return stored;
    }
    try {
      return await this.#fetchOnce(clientId);
    } catch (e) {
      if (mode === 'token' && stored && e instanceof ClientMetadataDocumentError && e.transient) return stored;
      throw e;
    }
  }

  #fetchOnce(url: string): Promise<ClientRecord> {
    let p = this.#inFlight.get(url);
    if (!p) {
      if (this.#inFlight.size >= MAX_CONCURRENT_FETCHES) {
        return Promise.reject(new ClientMetadataDocumentError('too many client metadata documents are being fetched right now: try again shortly', true));
      }
      p = this.#fetchAndStore(url).finally(() => this.#inFlight.delete(url));
      this.#inFlight.set(url, p);
    }
    return p;
  }

  async #fetchAndStore(url: string): Promise<ClientRecord> {
    let metadata: Record<string, unknown>;
    let freshSeconds: number;
    try {
      const res = await guardedGet(new URL(url), {
        allowPrivateAddresses: this.#config.allowPrivateAddresses,
        timeoutMs: this.#config.timeoutMs,
        maxBytes: this.#config.maxBytes,
        ...(this.#extraCa ? { extraCa: this.#extraCa } : {}),
        ...(this.#resolve ? { resolve: this.#resolve } : {}),
      });
      if (res.status !== 200) {
        throw new ClientMetadataDocumentError(`the client metadata document at ${url} could not be fetched (HTTP ${res.status})`, res.status >= 500 || res.status === 429);
      }
      metadata = validateMetadataDocument(url, res.body);
      freshSeconds = freshnessSeconds(res.headers, this.#nowMs(), this.#config.defaultCacheSeconds, this.#config.maxCacheSeconds);
    } catch (e) {
      const err =
        e instanceof ClientMetadataDocumentError
          ? e
          : e instanceof GuardedFetchError
            ? new ClientMetadataDocumentError(`the client metadata document at ${url} could not be fetched: ${e.message}`, e.transient)
            : undefined;
      if (!err) throw e;
      if (e instanceof GuardedFetchError) {
        this.#logger?.[e.transient ? 'debug' : 'warn']('keyhole.cimd_fetch_failed', { client_id: url, reason: e.detail ?? e.message, transient: e.transient });
      }
      if (!err.transient) this.#cache.set(url, { ok: false, error: err, freshUntil: this.#nowMs() + NEGATIVE_CACHE_MS });
      else this.#cache.delete(url);
      throw err;
    }

    const existing = await this.#store.clients.find(url);
    const record: ClientRecord = { clientId: url, kind: 'cimd', metadata, secretHash: null, createdAt: existing?.createdAt ?? this.#clock(), blockedAt: existing?.blockedAt ?? null };
    if (!existing || JSON.stringify(existing.metadata) !== JSON.stringify(metadata)) await this.#store.clients.upsert(record);
    if (!existing) {
      await this.#events.record({
        type: 'client.registered',
        clientId: url,
        detail: { kind: 'cimd', client_name: typeof metadata.client_name === 'string' ? metadata.client_name : null, document_host: new URL(url).host, redirect_hosts: (metadata.redirect_uris as string[]).map(hostOf) },
      });
    }
    this.#cache.set(url, { ok: true, freshUntil: this.#nowMs() + freshSeconds * 1000 });
    return await this.#store.clients.find(url) ?? record;
  }
}

function hostOf(uri: string): string {
  try {
    return new URL(uri).host || new URL(uri).protocol;
  } catch {
    return 'invalid';
  }
}
