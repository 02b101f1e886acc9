/**
 * SCIM 2.0 provisioning (issue 13 §3; RFC 7643 User, RFC 7644 protocol), the subset Okta and Entra ID send, under
 * /scim/v2 with bearer `identity.scim.token` (./scim-auth.ts). Mounted only with `identity.scim` (src/app.ts).
 *
 *   GET    /scim/v2/Users?filter=userName eq "…"&startIndex&count   ListResponse (RFC 7644 §3.4.2)
 *   GET    /scim/v2/Users/{id}                                     the User (RFC 7644 §3.4.1)
 *   POST   /scim/v2/Users                                          201 + the stored User; 409 uniqueness (§3.3)
 *   PUT    /scim/v2/Users/{id}                                     replace (§3.5.1)
 *   PATCH  /scim/v2/Users/{id}                                     PatchOp (§3.5.2; ./scim-patch.ts)
 *   DELETE /scim/v2/Users/{id}                                     204 (§3.6)
 *   GET    /scim/v2/ServiceProviderConfig                          what is supported (RFC 7643 §5)
 *
 * The SCIM User `id` is the person id. SCIM resources are the people with a `userName`; a person who only signed in
 * is found by POST (Okta creates after a failed lookup) and linked: by the IdP's `sub` sent as `externalId` first
 * (the person signed in with that `sub` at `identity.issuer`, or a SCIM row with that externalId), else by email.
 *
 * Deactivation (`active: false` by PATCH, PUT or POST) and DELETE offboard the person exactly as the admin action
 * does (PeopleService.offboard, `via: 'scim'`, actor `scim`), before the response. Reactivation (`active: true`)
 * reinstates the person only when the offboarding came from SCIM: an offboarding by an admin or by the IdP
 * revalidation is a decision SCIM did not make and cannot undo (the admin reinstates). After DELETE the User is gone
 * from SCIM (userName and externalId cleared, GET answers 404, RFC 7644 §3.6) while the person and their history stay.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { EventRecorder } from '../events/recorder.js';
import type { PeopleService } from '../people/people-service.js';
import type { PersonRecord, ScimFields, Store } from '../store/types.js';
import { randomId } from '../store/crypto/hash.js';
import { parseJsonObject } from '../http/json-object.js';
import { AdminAttemptGuard, type AdminAttemptGuardOptions } from '../http/failure-limiter.js';
import { perInstance } from '../http/rate-limit.js';
import { scimBearer } from './scim-auth.js';
import { parseScimFilter } from './scim-filter.js';
import { parseScimPatch } from './scim-patch.js';
import { LIST_SCHEMA, scimError, ScimError, scimJson } from './scim-response.js';
import { parseScimUser, scimUser } from './scim-user.js';

/** The actor recorded for SCIM's offboardings and reinstatements. */
export const SCIM_ACTOR = 'scim';
const MAX_BODY = 64 * 1024;
/** RFC 7644 §3.4.2.4: the server may cap `count`. */
export const SCIM_MAX_COUNT = 200;
const DEFAULT_COUNT = 100;

export interface ScimDeps {
  store: Store;
  people: Pick<PeopleService, 'offboard' | 'reinstate'>;
  events: Pick<EventRecorder, 'record'>;
  clock: () => number;
  token: string;
  /** `identity.issuer`: a person who signed in is matched by (issuer, externalId as `sub`). */
  issuer: string;
  /** keyhole's public URL (meta.location). */
  baseUrl: string;
  /** config `instances`: each instance enforces the failure limits divided by it (docs/architecture.md, "Several instances"). */
  instances?: number;
  /** Failed bearer attempts: per address (default 5/min) and across addresses (default 20/min, then a backoff). */
  attempts?: Omit<AdminAttemptGuardOptions, 'now'>;
}

async function readBody(c: Context): Promise<Record<string, unknown>> {
  const body = parseJsonObject(await c.req.text());
  if (!body.ok) throw new ScimError(400, body.reason === 'not-json' ? 'the body is not valid JSON' : 'the body must be a JSON object', 'invalidSyntax');
  return body.value;
}

/** RFC 7644 §3.4.2.4: startIndex < 1 is 1; a negative count is 0. */
function paging(q: URLSearchParams): { startIndex: number; count: number } {
  const int = (name: string, fallback: number) => {
    const v = q.get(name);
    if (v === null || v === '') return fallback;
    if (!/^-?\d{1,9}$/.test(v)) throw new ScimError(400, `${name} must be an integer`, 'invalidValue');
    return Number(v);
  };
  return { startIndex: Math.max(1, int('startIndex', 1)), count: Math.min(SCIM_MAX_COUNT, Math.max(0, int('count', DEFAULT_COUNT))) };
}

function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  return err?.code === '23505' || (typeof err?.message === 'string' && /UNIQUE constraint failed/i.test(err.message));
}

export function scimRoutes(deps: ScimDeps): Hono {
  const app = new Hono();
  const { store, people, events, clock } = deps;

  const instances = deps.instances ?? 1;
  const limiter = new AdminAttemptGuard({
    ...deps.attempts,
    perAddressPerMinute: perInstance(deps.attempts?.perAddressPerMinute ?? 5, instances),
    globalPerMinute: perInstance(deps.attempts?.globalPerMinute ?? 20, instances),
    now: clock,
  });
  app.use('/scim/v2/*', scimBearer(deps.token, { limiter, events, clock }));
  app.use('/scim/v2/*', bodyLimit({ maxSize: MAX_BODY, onError: (c) => scimError(c, new ScimError(413, `the body is larger than ${MAX_BODY} bytes`)) }));

  const guard = (fn: (c: Context) => Promise<Response>) => async (c: Context) => {
    try {
      return await fn(c);
    } catch (e) {
      if (e instanceof ScimError) return scimError(c, e);
      if (isUniqueViolation(e)) return scimError(c, new ScimError(409, 'a User with this userName already exists', 'uniqueness'));
      throw e;
    }
  };

  /** A SCIM resource: a person with a userName; otherwise 404 (RFC 7644 §3.12). */
  async function resource(id: string): Promise<PersonRecord> {
    const p = await store.people.get(id);
    if (!p || p.userName === null) throw new ScimError(404, `no User with id ${JSON.stringify(id.slice(0, 64))}`);
    return p;
  }

  async function assertUserNameFree(userName: string, self?: string): Promise<void> {
    const other = await store.people.findByScimUserName(userName);
    // RFC 7644 §3.3: 409 with scimType "uniqueness" when the userName is taken.
    if (other && other.id !== self) throw new ScimError(409, 'a User with this userName already exists', 'uniqueness');
  }

  /** Deactivation offboards (via scim); reactivation reinstates only an offboarding that SCIM itself made. */
  async function applyActive(personId: string, active: boolean | undefined): Promise<void> {
    if (active === undefined) return;
    await store.people.updateScim(personId, { scimActive: active });
    if (!active) {
      await people.offboard(personId, { actor: SCIM_ACTOR, via: 'scim' });
      return;
    }
    const p = await store.people.get(personId);
    if (p?.status === 'offboarded' && p.offboardedVia === 'scim') await people.reinstate(personId, SCIM_ACTOR);
  }

  async function answer(c: Context, id: string, status: 200 | 201 = 200): Promise<Response> {
    const p = (await store.people.get(id))!;
    if (status === 201) c.header('Location', `${deps.baseUrl}/scim/v2/Users/${p.id}`);
    return scimJson(c, scimUser(p, deps.baseUrl), status);
  }

  app.get('/scim/v2/Users', guard(async (c) => {
    const q = new URL(c.req.url).searchParams;
    const { startIndex, count } = paging(q);
    const filter = q.get('filter');
    let resources: PersonRecord[];
    let total: number;
    if (filter !== null && filter.trim() !== '') {
      const f = parseScimFilter(filter);
      const found = f.attr === 'userName' ? await store.people.findByScimUserName(f.value)
        : f.attr === 'externalId' ? await store.people.findByExternalId(f.value)
          : f.attr === 'email' ? await store.people.findByEmail(f.value)
            : await store.people.get(f.value);
      const matches = found && found.userName !== null ? [found] : [];
      total = matches.length;
      resources = matches.slice(startIndex - 1, startIndex - 1 + count);
    } else {
      total = await store.people.count({ scim: true });
      resources = count === 0 ? [] : await store.people.list({ scim: true, limit: count, offset: startIndex - 1 });
    }
    // RFC 7644 §3.4.2: ListResponse with totalResults, startIndex, itemsPerPage, Resources.
    return scimJson(c, { schemas: [LIST_SCHEMA], totalResults: total, startIndex, itemsPerPage: resources.length, Resources: resources.map((p) => scimUser(p, deps.baseUrl)) });
  }));

  app.get('/scim/v2/Users/:id', guard(async (c) => answer(c, (await resource(c.req.param('id')!)).id)));

  app.post('/scim/v2/Users', guard(async (c) => {
    const input = parseScimUser(await readBody(c));
    await assertUserNameFree(input.userName);
    // Link a person who signed in before SCIM knew them: by sub (sent as externalId), else by email.
    let match: PersonRecord | undefined;
    if (input.externalId) match = (await store.people.findByIssSub(deps.issuer, input.externalId)) ?? (await store.people.findByExternalId(input.externalId));
    if (!match && input.email) match = await store.people.findByEmail(input.email);
    if (match && match.userName !== null) match = undefined; // already another SCIM User: this one is someone else
    const fields: ScimFields = { userName: input.userName, externalId: input.externalId, email: input.email, name: input.name };
    let id: string;
    if (match) {
      id = match.id;
      await store.people.updateScim(id, fields);
    } else {
      id = randomId('u');
      await store.people.create({
        id, iss: null, sub: null, email: input.email, name: input.name, groups: [], status: 'active', offboardedAt: null, offboardedBy: null,
        offboardedVia: null, externalId: input.externalId, userName: input.userName, scimActive: input.active, createdAt: clock(), lastSeenAt: null,
      });
    }
    await events.record({ type: 'person.provisioned', personId: id, detail: { actor: SCIM_ACTOR, linked: Boolean(match), active: input.active } });
    await applyActive(id, input.active);
    return answer(c, id, 201);
  }));

  app.put('/scim/v2/Users/:id', guard(async (c) => {
    const p = await resource(c.req.param('id')!);
    const input = parseScimUser(await readBody(c));
    if (!input.active) await applyActive(p.id, false); // a leaver is deactivated even if the rest is refused
    await assertUserNameFree(input.userName, p.id);
    await store.people.updateScim(p.id, { userName: input.userName, externalId: input.externalId, email: input.email, name: input.name });
    await events.record({ type: 'person.scim_updated', personId: p.id, detail: { actor: SCIM_ACTOR, method: 'PUT', fields: ['userName', 'externalId', 'emails', 'name', 'active'] } });
    await applyActive(p.id, input.active);
    return answer(c, p.id);
  }));

  app.patch('/scim/v2/Users/:id', guard(async (c) => {
    const p = await resource(c.req.param('id')!);
    const patch = parseScimPatch(await readBody(c));
    if (patch.active === false) await applyActive(p.id, false); // first: whatever else the request says (scim-patch.ts)
    if (patch.error) throw patch.error;
    if (patch.userName) await assertUserNameFree(patch.userName, p.id);
    const { active, error: _e, ...fields } = patch;
    if (Object.keys(fields).length) await store.people.updateScim(p.id, fields);
    await events.record({ type: 'person.scim_updated', personId: p.id, detail: { actor: SCIM_ACTOR, method: 'PATCH', fields: [...Object.keys(fields), ...(active !== undefined ? ['active'] : [])] } });
    if (active === true) await applyActive(p.id, true);
    return answer(c, p.id);
  }));

  app.delete('/scim/v2/Users/:id', guard(async (c) => {
    const p = await resource(c.req.param('id')!);
    await applyActive(p.id, false);
    await store.people.updateScim(p.id, { userName: null, externalId: null });
    await events.record({ type: 'person.scim_updated', personId: p.id, detail: { actor: SCIM_ACTOR, method: 'DELETE', fields: ['userName', 'externalId', 'active'] } });
    return c.body(null, 204);
  }));

  // RFC 7643 §5: what this endpoint supports.
  app.get('/scim/v2/ServiceProviderConfig', (c) => scimJson(c, {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: SCIM_MAX_COUNT },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [{ type: 'oauthbearertoken', name: 'OAuth Bearer Token', description: 'Authorization: Bearer <identity.scim.token>' }],
  }));

  app.all('/scim/v2/*', (c) => scimError(c, new ScimError(404, 'no such SCIM endpoint (keyhole serves /scim/v2/Users)')));
  return app;
}
