/**
 * The admin pages' view models and filter shapes: what a page is given to render. They live with the views (a lower
 * layer than src/admin), so that views never import the admin routes' code; src/admin builds them from the store.
 */
import type { ClientKind, EventFilter, GrantFilter, GrantPerson, GrantStatus } from '../../src/store/types.js';

export interface ClientSummary {
  clientId: string;
  /** `client_name` from the registration; null when absent. Untrusted text: always rendered escaped. */
  name: string | null;
  /** null when the client row no longer exists (deleted), or never existed (static client from config). */
  kind: ClientKind | null;
  redirectHosts: string[];
  blockedAt: number | null;
  createdAt: number | null;
  exists: boolean;
}

export type UpstreamTokenState =
  | { state: 'revoked'; at: number | null }
  | { state: 'refresh_failing'; since: number; validUntil: number | null; refreshable: boolean }
  | { state: 'valid'; validUntil: number | null; refreshable: boolean }
  | { state: 'expired'; validUntil: number; refreshable: boolean }
  | { state: 'missing' };

export interface GrantView {
  id: string;
  status: GrantStatus;
  statusReason: string | null;
  revokedAt: number | null;
  subject: string;
  subjectName: string | null;
  client: ClientSummary;
  server: string;
  scopes: string[];
  createdAt: number;
  lastUsedAt: number | null;
  upstream: UpstreamTokenState;
  /** The person (issue 13, with `identity`): id and the sign-in snapshot; null without. */
  person: GrantPerson | null;
}

export interface ClientView extends ClientSummary {
  grantCount: number;
  activeGrantCount: number;
  /** The latest of the client's own use and its grants' MCP traffic; null when never used. */
  lastUsedAt: number | null;
  /** The client's own use: last completed authorization or token issued/refreshed (what filters and expiry go by). */
  clientLastUsedAt: number | null;
}

export const CLIENT_KINDS: readonly ClientKind[] = ['dcr', 'cimd', 'static'];
export const CLIENT_USE: readonly ['never', 'ever'] = ['never', 'ever'];

export type GrantQueryFilter = Pick<GrantFilter, 'subject' | 'personId' | 'clientId' | 'server' | 'status'>;
export type EventQueryFilter = Pick<EventFilter, 'type' | 'server' | 'grantId' | 'clientId' | 'personId' | 'since' | 'until'>;

/**
 * Client filters: `kind` (dcr | cimd | static), `unused_days` (no use — completed authorization, token issued or
 * refreshed — for at least that many days; never-used clients count from registration: the same notion as the DCR
 * expiry job), `used` (never | ever).
 */
export interface ClientQueryFilter {
  kind?: ClientKind;
  unusedDays?: number;
  used?: 'never' | 'ever';
}

export function clientFilterParams(f: ClientQueryFilter): Record<string, string | number | undefined> {
  return { kind: f.kind, unused_days: f.unusedDays, used: f.used };
}
