/**
 * Dynamic client registration (RFC 7591). JSON in, JSON out — errors too, since the SDK fails on HTML.
 * Unknown metadata fields are accepted and echoed (RFC 7591 §2, e.g. `application_type`).
 * Bounded: body size (app-level), array lengths, string lengths, and a per-address rate limit.
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.2
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { AuthorizationServerDeps } from './deps.js';
import { InvalidClientMetadataError, InvalidRedirectUriError, TooManyRequestsError } from '../oauth/errors.js';
import { redirectUriProblem } from '../oauth/redirect-uri.js';
import { randomId, randomToken, sha256Hex } from '../store/crypto/hash.js';
import { FixedWindowLimiter, clientAddress } from '../http/rate-limit.js';
import { noStore } from '../http/no-store.js';

const MAX_REGISTRATION_BYTES = 16 * 1024;
const shortText = z.string().max(500);
/** Fields only the authorization server assigns (RFC 7591 §3.2.1, RFC 7592 §3). */
const SERVER_ASSIGNED = new Set(['client_id', 'client_secret', 'client_id_issued_at', 'client_secret_expires_at', 'registration_access_token', 'registration_client_uri']);

const registrationSchema = z.looseObject({
  redirect_uris: z.array(z.string()).min(1, 'at least one redirect URI is required').max(20, 'at most 20 redirect URIs'),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']).optional(),
  grant_types: z.array(z.enum(['authorization_code', 'refresh_token'])).max(2).optional(),
  response_types: z.array(z.literal('code')).max(1).optional(),
  client_name: z.string().max(200).optional(),
  client_uri: shortText.optional(),
  logo_uri: shortText.optional(),
  scope: shortText.optional(),
  contacts: z.array(shortText).max(10).optional(),
  software_id: shortText.optional(),
  software_version: shortText.optional(),
});

export function registerRoutes(deps: AuthorizationServerDeps, opts: { perMinute?: number } = {}): Hono {
  const app = new Hono();
  const limiter = new FixedWindowLimiter(opts.perMinute ?? 30, 60_000);
  app.post('/register', noStore, async (c) => {
    if (!limiter.take(clientAddress(c))) throw new TooManyRequestsError('too many registrations from this address; try again in a minute');
    const text = await c.req.text();
    if (Buffer.byteLength(text) > MAX_REGISTRATION_BYTES) throw new InvalidClientMetadataError(`registration metadata is larger than ${MAX_REGISTRATION_BYTES} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new InvalidClientMetadataError('the body must be a JSON object');
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InvalidClientMetadataError('the body must be a JSON object');
    const raw = body as Record<string, unknown>;
    if (raw.redirect_uris === undefined) throw new InvalidRedirectUriError('redirect_uris is required');
    const parsed = registrationSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.map(String).join('.');
      if (field.startsWith('redirect_uris')) throw new InvalidRedirectUriError(`${field}: ${issue.message}`);
      throw new InvalidClientMetadataError(`${field || 'metadata'}: ${issue.message}`);
    }
    const meta = parsed.data;
    for (const uri of meta.redirect_uris) {
      const problem = redirectUriProblem(uri);
      if (problem) throw new InvalidRedirectUriError(`redirect URI ${JSON.stringify(uri.slice(0, 200))} ${problem}`);
    }
    // Extra fields are echoed, but the whole document stays bounded.
    if (Object.keys(raw).length > 40) throw new InvalidClientMetadataError('too many metadata fields');
    // RFC 7591 §2: the default token_endpoint_auth_method is client_secret_basic.
    const authMethod = meta.token_endpoint_auth_method ?? 'client_secret_basic';
    // RFC 7591 §2 defaults to authorization_code alone; clients that omit grant_types still refresh in practice,
    // so keyhole registers both and echoes what it registered (§3.2.1 lets the server replace values).
    const grantTypes = meta.grant_types ?? ['authorization_code', 'refresh_token'];
    if (!grantTypes.includes('authorization_code')) throw new InvalidClientMetadataError('grant_types must include authorization_code');
    const now = deps.clock();
    const clientId = randomId('c');
    const secret = authMethod === 'none' ? undefined : randomToken('kh_cs_');
    // RFC 7591 §3.2.1: client_id, client_secret, their issue/expiry times and the registration management fields are
    // issued by the server — never taken from (or echoed back out of) the request.
    const clientFields = Object.fromEntries(Object.entries(raw).filter(([k]) => !SERVER_ASSIGNED.has(k)));
    const metadata: Record<string, unknown> = {
      ...clientFields,
      token_endpoint_auth_method: authMethod,
      grant_types: grantTypes,
      response_types: ['code'],
    };
    deps.store.createClient({ clientId, kind: 'dcr', metadata, secretHash: secret ? sha256Hex(secret) : null, createdAt: now, blockedAt: null });
    deps.events.record({
      type: 'client.registered',
      clientId,
      detail: { kind: 'dcr', client_name: meta.client_name ?? null, redirect_hosts: meta.redirect_uris.map(hostOf), auth_method: authMethod },
    });
    return c.json(
      {
        ...metadata,
        client_id: clientId,
        client_id_issued_at: now,
        ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
      },
      201,
    );
  });
  return app;
}

function hostOf(uri: string): string {
  try {
    const url = new URL(uri);
    return url.host || url.protocol;
  } catch {
    return 'invalid';
  }
}
