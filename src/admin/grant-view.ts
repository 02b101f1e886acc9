/**
 * What the admin page and API show of a grant: the grant joined with its client and the state of its sealed
 * upstream credential. Never a token value: the credential's ciphertexts are not even read into the view,
 * only their expiry and failure times.
 */
import type { ClientSummary, GrantView, UpstreamTokenState } from '../../views/admin/view-models.js';
import type { ClientRecord, GrantRecord, GrantStatus, Store, UpstreamCredential } from '../store/types.js';
import { redirectHost } from '../oauth/redirect-uri.js';

export type { ClientSummary, GrantView, UpstreamTokenState } from '../../views/admin/view-models.js';

export function redirectHostsOf(client: ClientRecord): string[] {
  const uris = Array.isArray(client.metadata.redirect_uris) ? client.metadata.redirect_uris : [];
  return [...new Set(uris.filter((u): u is string => typeof u === 'string').map(redirectHost))];
}

export function clientSummary(clientId: string, record: ClientRecord | undefined): ClientSummary {
  if (!record) return { clientId, name: null, kind: null, redirectHosts: [], blockedAt: null, createdAt: null, exists: false };
  const name = record.metadata.client_name;
  return {
    clientId,
    name: typeof name === 'string' && name.trim() !== '' ? name : null,
    kind: record.kind,
    redirectHosts: redirectHostsOf(record),
    blockedAt: record.blockedAt,
    createdAt: record.createdAt,
    exists: true,
  };
}

export function upstreamTokenState(grant: GrantRecord, credential: UpstreamCredential | undefined, now: number): UpstreamTokenState {
  if (grant.status === 'revoked') return { state: 'revoked', at: grant.revokedAt };
  if (!credential) return { state: 'missing' };
  const refreshable = credential.refreshToken !== null;
  if (credential.refreshFailingSince !== null) return { state: 'refresh_failing', since: credential.refreshFailingSince, validUntil: credential.accessExpiresAt, refreshable };
  if (credential.accessExpiresAt !== null && credential.accessExpiresAt <= now) return { state: 'expired', validUntil: credential.accessExpiresAt, refreshable };
  return { state: 'valid', validUntil: credential.accessExpiresAt, refreshable };
}

/** Joins grants with their clients (one lookup per distinct client) and upstream credential states. */
export async function buildGrantViews(store: Store, grants: GrantRecord[], now: number): Promise<GrantView[]> {
  // Two reads for the whole page (clients, then the active grants' upstream credentials), not two per grant.
  const clientRecords = new Map((await store.clients.findMany([...new Set(grants.map((g) => g.clientId))])).map((c) => [c.clientId, c]));
  const activeIds = grants.filter((g) => g.status === 'active').map((g) => g.id);
  const credentials = new Map((await store.upstreamCredentials.findMany(activeIds)).map((c) => [c.grantId, c]));
  const clients = new Map<string, ClientSummary>();
  const views: GrantView[] = [];
  for (const g of grants) {
    let client = clients.get(g.clientId);
    if (!client) {
      client = clientSummary(g.clientId, clientRecords.get(g.clientId));
      clients.set(g.clientId, client);
    }
    views.push({
      id: g.id,
      status: g.status,
      statusReason: g.statusReason,
      revokedAt: g.revokedAt,
      subject: g.subject,
      subjectName: g.subjectName,
      client,
      server: g.server,
      scopes: g.scopes,
      createdAt: g.createdAt,
      lastUsedAt: g.lastUsedAt,
      upstream: upstreamTokenState(g, g.status === 'active' ? credentials.get(g.id) : undefined, now),
      person: g.person,
    });
  }
  return views;
}

// ---- JSON (admin API): snake_case, epoch seconds -------------------------------------------------------------

export function clientSummaryJson(c: ClientSummary) {
  return { client_id: c.clientId, client_name: c.name, kind: c.kind, redirect_hosts: c.redirectHosts, blocked_at: c.blockedAt, exists: c.exists };
}

export function upstreamTokenJson(u: UpstreamTokenState) {
  switch (u.state) {
    case 'revoked':
      return { status: 'revoked' as const, revoked_at: u.at };
    case 'missing':
      return { status: 'missing' as const };
    case 'refresh_failing':
      return { status: 'refresh_failing' as const, refresh_failing_since: u.since, valid_until: u.validUntil, has_refresh_token: u.refreshable };
    case 'expired':
    case 'valid':
      return { status: u.state, valid_until: u.validUntil, has_refresh_token: u.refreshable };
  }
}

export function grantJson(v: GrantView) {
  return {
    id: v.id,
    status: v.status,
    status_reason: v.statusReason,
    revoked_at: v.revokedAt,
    subject: v.subject,
    subject_name: v.subjectName,
    client: clientSummaryJson(v.client),
    server: v.server,
    scopes: v.scopes,
    created_at: v.createdAt,
    last_used_at: v.lastUsedAt,
    upstream_token: upstreamTokenJson(v.upstream),
    // The person (issue 13): null without `identity`; email, name and groups as of the sign-in that made the grant.
    person_id: v.person?.id ?? null,
    person: v.person ? { id: v.person.id, email: v.person.email, name: v.person.name, groups: v.person.groups } : null,
  };
}
