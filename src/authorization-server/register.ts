/**
 * Dynamic client registration (RFC 7591). JSON in, JSON out — errors too, since the SDK fails on HTML.
 * Unknown metadata fields are accepted and echoed within bounds (./registration-metadata.ts).
 * Bounded: body size, every field, a per-address rate limit and a global one over a sliding hour (config `dcr`),
 * and DCR clients that are never or no longer used are deleted (./client-expiry.ts).
 * Registration order at /authorize and /token: a pre-registered (static) client id is looked up as is; an https URL
 * client id is a client ID metadata document; anything else must be a DCR id (`c_…`). The id spaces are disjoint
 * (static ids may not look like URLs nor start with `c_`, config/schema.ts), so no kind can shadow another.
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.2
 */
import { Hono, type Context } from 'hono';
import type { AuthorizationServerDeps } from './deps.js';
import { InvalidClientMetadataError, TooManyRequestsError } from '../oauth/errors.js';
import { randomId, randomToken, sha256Hex } from '../store/crypto/hash.js';
import { FixedWindowLimiter, clientAddress, perInstance } from '../http/rate-limit.js';
import { parseJsonObject } from '../http/json-object.js';
import { noStore } from '../http/no-store.js';
import { acceptRegistration, MAX_REGISTRATION_BYTES, registeredGrantTypes } from './registration-metadata.js';

const HOUR = 3_600;

/** 429 with Retry-After (seconds): the body is still the RFC 7591 §3.2.2 JSON error. */
function tooMany(c: Context, retryAfter: number, message: string): TooManyRequestsError {
  c.header('Retry-After', String(Math.max(1, Math.ceil(retryAfter))));
  return new TooManyRequestsError(message);
}

export function registerRoutes(deps: AuthorizationServerDeps): Hono {
  const app = new Hono();
  const dcr = deps.config.dcr;
  const perAddress = new FixedWindowLimiter(perInstance(dcr.perAddressPerMinute, deps.config.instances), 60_000); // globalPerHour is counted in the database
  app.post('/register', noStore, async (c) => {
    const now = deps.clock();
    // https://www.rfc-editor.org/rfc/rfc7591#section-3.2.2 — refusals are JSON errors; 429 for rate limits.
    if (!perAddress.take(clientAddress(c), now * 1000)) throw tooMany(c, 60, 'too many registrations from this address; try again in a minute');
    const recent = await deps.store.dcrRegistrations.countSince(now - HOUR + 1);
    if (recent.count >= dcr.globalPerHour) {
      throw tooMany(c, (recent.oldest ?? now) + HOUR - now, 'too many client registrations on this server right now; try again later');
    }
    const text = await c.req.text();
    if (Buffer.byteLength(text) > MAX_REGISTRATION_BYTES) throw new InvalidClientMetadataError(`metadata: the registration is larger than ${MAX_REGISTRATION_BYTES} bytes`);
    const body = parseJsonObject(text);
    if (!body.ok) throw new InvalidClientMetadataError('the body must be a JSON object');
    const { meta, clientFields, redirectUris, dropped, applicationType } = acceptRegistration(body.value);
    // RFC 7591 §2: the default token_endpoint_auth_method is client_secret_basic.
    const authMethod = meta.token_endpoint_auth_method ?? 'client_secret_basic';
    // RFC 7591 §2 defaults to authorization_code alone; keyhole registers what it supports and echoes it (§3.2.1).
    const grantTypes = registeredGrantTypes(meta.grant_types);
    const clientId = randomId('c');
    const secret = authMethod === 'none' ? undefined : randomToken('kh_cs_');
    // RFC 7591 §3.2.1: client_id, client_secret, their issue/expiry times and the registration management fields are
    // issued by the server — never taken from (or echoed back out of) the request.
    const metadata: Record<string, unknown> = {
      ...clientFields,
      redirect_uris: redirectUris,
      application_type: applicationType,
      token_endpoint_auth_method: authMethod,
      grant_types: grantTypes,
      response_types: ['code'],
    };
    await deps.store.clients.create({ clientId, kind: 'dcr', metadata, secretHash: secret ? sha256Hex(secret) : null, createdAt: now, blockedAt: null, lastUsedAt: null });
    await deps.events.record({
      type: 'client.registered',
      clientId,
      detail: {
        kind: 'dcr',
        client_name: meta.client_name ?? null,
        redirect_hosts: redirectUris.map(hostOf),
        auth_method: authMethod,
        application_type: applicationType,
        ...(dropped > 0 ? { dropped_redirect_uris: dropped } : {}),
      },
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
