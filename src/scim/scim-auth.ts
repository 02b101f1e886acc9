/**
 * Bearer authentication of the SCIM surface: `Authorization: Bearer <identity.scim.token>` (RFC 7644 §2: SCIM uses
 * OAuth bearer tokens, RFC 6750), compared in constant time. Missing or wrong: 401 with the SCIM error body
 * (RFC 7644 §3.12) and a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3). The token is never logged or recorded;
 * only the fact of a refusal is (`scim.auth_failed`, `detail.reason` missing | wrong | limited, `detail.address`).
 *
 * Failed attempts are limited like the admin token's (AttemptGuard, src/http/failure-limiter.ts): per client address
 * (`trustProxy`-aware) and across addresses, both checked before the token is compared, so a guess made while refused
 * is refused too. Over a limit: 429 with `Retry-After` (RFC 6585 §4) and the SCIM error body. An address where the
 * token was accepted is exempt from the shared budget, so failures elsewhere do not lock out the IdP.
 */
import type { MiddlewareHandler } from 'hono';
import type { EventRecorder } from '../events/recorder.js';
import { clientAddress } from '../http/client-address.js';
import type { AdminAttemptGuard } from '../http/failure-limiter.js';
import { safeEqual } from '../store/crypto/hash.js';
import { scimError, ScimError } from './scim-response.js';

export const SCIM_REALM = 'keyhole-scim';

export type ScimAuthFailure = 'missing' | 'wrong' | 'limited';

/**
 * At most one `scim.auth_failed` event per address and window, and at most `maxPerWindow` in all (rotating addresses
 * cannot flood either); the refusals in between are counted and reported in the address's next event as
 * `detail.suppressed`, so a flood cannot fill the events table. Bounded: `maxKeys` addresses.
 */
export class ScimFailureEvents {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  private windowStart = -Infinity;
  private inWindow = 0;
  constructor(private readonly windowMs = 60_000, private readonly maxKeys = 10_000, private readonly maxPerWindow = 100) {}

  /** undefined: do not record now (counted); otherwise how many refusals were not recorded before this one. */
  take(address: string, now: number): number | undefined {
    const seen = this.last.get(address);
    if (seen && now - seen.at < this.windowMs) {
      seen.suppressed++;
      return undefined;
    }
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.last.delete(address);
    if (this.inWindow >= this.maxPerWindow) {
      this.remember(address, { at: -Infinity, suppressed: suppressed + 1 });
      return undefined;
    }
    this.inWindow++;
    this.remember(address, { at: now, suppressed: 0 });
    return suppressed;
  }

  private remember(address: string, entry: { at: number; suppressed: number }): void {
    this.last.set(address, entry);
    while (this.last.size > this.maxKeys) this.last.delete(this.last.keys().next().value!);
  }
}

export interface ScimBearerOptions {
  limiter: AdminAttemptGuard;
  events: Pick<EventRecorder, 'record'>;
  clock: () => number;
  failureEvents?: ScimFailureEvents;
}

export function scimBearer(token: string, opts: ScimBearerOptions): MiddlewareHandler {
  if (typeof token !== 'string' || token.length < 24) throw new TypeError('scimBearer: the SCIM token must be at least 24 characters');
  const { limiter, events, clock } = opts;
  const failureEvents = opts.failureEvents ?? new ScimFailureEvents();

  async function refused(address: string, reason: ScimAuthFailure, lockout = 0): Promise<void> {
    const suppressed = failureEvents.take(address, clock());
    if (suppressed === undefined) return;
    // The presented token is never part of the event, not even a prefix.
    await events.record({
      type: 'scim.auth_failed',
      outcome: 'failure',
      detail: { reason, address, ...(suppressed ? { suppressed } : {}), ...(lockout ? { lockout_seconds: lockout } : {}) },
    });
  }

  return async function scimBearerAuth(c, next) {
    const address = clientAddress(c);
    const refusal = limiter.refusal(address);
    if (refusal) {
      await refused(address, 'limited');
      // https://www.rfc-editor.org/rfc/rfc6585#section-4 — 429 MAY include Retry-After.
      c.header('Retry-After', String(refusal.retryAfter));
      const from = refusal.scope === 'address' ? ' from this address' : '';
      return scimError(c, new ScimError(429, `too many failed attempts${from}; retry in ${refusal.retryAfter} s`));
    }
    const header = c.req.header('authorization');
    // https://www.rfc-editor.org/rfc/rfc6750#section-2.1 — credentials = "Bearer" 1*SP b64token
    const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
    if (!match) {
      const lockout = limiter.fail(address);
      await refused(address, 'missing', lockout);
      c.header('WWW-Authenticate', `Bearer realm="${SCIM_REALM}"`);
      return scimError(c, new ScimError(401, 'SCIM requests need Authorization: Bearer <the SCIM token>'));
    }
    if (!safeEqual(match[1]!, token)) {
      const lockout = limiter.fail(address);
      await refused(address, 'wrong', lockout);
      c.header('WWW-Authenticate', `Bearer realm="${SCIM_REALM}", error="invalid_token"`);
      return scimError(c, new ScimError(401, 'the SCIM token is not valid'));
    }
    limiter.succeed(address);
    await next();
  };
}
