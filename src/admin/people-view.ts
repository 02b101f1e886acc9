/**
 * What the People page and API show of a person (issue 13 §3, §5): the person, every grant of theirs across every
 * server and client (joined with the client and the upstream token state, ./grant-view.ts) and their last activity
 * (the latest of their sign-in and their grants' last use). The list is paginated in SQL (store.people.list); the
 * grants of the whole page are read at once (store.grants.listByPeople). Never a token value.
 */
import type { EventRecord, PersonRecord, Store } from '../store/types.js';
import type { PersonView } from '../../views/admin/view-models.js';
import { buildGrantViews, grantJson, type GrantView } from './grant-view.js';

export type { PersonView } from '../../views/admin/view-models.js';

/** Events shown on a person's timeline (newest first). */
export const PERSON_TIMELINE_LIMIT = 200;

export async function buildPersonView(store: Store, person: PersonRecord, now: number): Promise<PersonView> {
  return personView(person, await buildGrantViews(store, await store.grants.listByPerson(person.id), now));
}

/** The views of one page of people: three reads for the page (grants, clients, credentials), whatever its size. */
export async function buildPersonViews(store: Store, people: PersonRecord[], now: number): Promise<PersonView[]> {
  const grants = await buildGrantViews(store, await store.grants.listByPeople(people.map((p) => p.id)), now);
  const byPerson = new Map<string, GrantView[]>();
  for (const g of grants) {
    const id = g.person?.id;
    if (!id) continue;
    const list = byPerson.get(id);
    if (list) list.push(g);
    else byPerson.set(id, [g]);
  }
  return people.map((p) => personView(p, byPerson.get(p.id) ?? []));
}

function personView(person: PersonRecord, grants: GrantView[]): PersonView {
  const times = [person.lastSeenAt, ...grants.map((g) => g.lastUsedAt)].filter((t): t is number => t !== null);
  return { person, grants, lastActivityAt: times.length ? Math.max(...times) : null };
}

/** The person's events and their grants' events, newest first, at most PERSON_TIMELINE_LIMIT. */
export async function personTimeline(store: Store, view: PersonView): Promise<{ events: EventRecord[]; truncated: boolean }> {
  const byId = new Map<number, EventRecord>();
  const own = await store.events.list({ personId: view.person.id, limit: PERSON_TIMELINE_LIMIT });
  let truncated = own.length === PERSON_TIMELINE_LIMIT;
  for (const e of own) byId.set(e.id, e);
  for (const g of view.grants) {
    const list = await store.events.list({ grantId: g.id, limit: PERSON_TIMELINE_LIMIT });
    if (list.length === PERSON_TIMELINE_LIMIT) truncated = true;
    for (const e of list) byId.set(e.id, e);
  }
  const events = [...byId.values()].sort((a, b) => b.id - a.id);
  return { events: events.slice(0, PERSON_TIMELINE_LIMIT), truncated: truncated || events.length > PERSON_TIMELINE_LIMIT };
}

export function personJson(v: PersonView) {
  const p = v.person;
  const active = v.grants.filter((g) => g.status === 'active');
  return {
    id: p.id,
    email: p.email,
    name: p.name,
    groups: p.groups,
    status: p.status,
    offboarded_at: p.offboardedAt,
    offboarded_by: p.offboardedBy,
    offboarded_via: p.offboardedVia,
    iss: p.iss,
    sub: p.sub,
    scim: { user_name: p.userName, external_id: p.externalId, active: p.scimActive },
    created_at: p.createdAt,
    last_seen_at: p.lastSeenAt,
    last_activity_at: v.lastActivityAt,
    active_grants: active.length,
    servers: [...new Set(v.grants.map((g) => g.server))].sort(),
    clients: [...new Set(v.grants.map((g) => g.client.clientId))].sort(),
    grants: v.grants.map(grantJson),
  };
}
