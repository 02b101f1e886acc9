/**
 * Who may use what (issue 13 §2), as pure functions of the config and the person's groups (as the IdP sent them in
 * `identity.groupsClaim` at sign-in). Group names compare exactly. A rule that is absent allows everyone:
 * - `identity.allowedGroups`: only members of one of these may use keyhole at all;
 * - per server `access.groups`: only members of one of these may use the server;
 * - per keyhole scope `groups`: only members of one of these may be granted the scope.
 * Every refusal happens before any upstream redirect (src/authorization-server/authorize.ts) and is recorded.
 */
import type { IdentityConfig } from '../config/identity-schema.js';
import type { ServerConfig } from '../config/schema.js';
import { grantableScopes } from '../config/scopes.js';

/** Why a person is refused; also the `reason` of the `person.refused` event. */
export type AccessRefusal = 'offboarded' | 'not_in_allowed_groups' | 'not_in_server_groups' | 'no_permitted_scope';

function memberOfAny(groups: readonly string[], allowed: readonly string[] | undefined): boolean {
  if (!allowed) return true;
  return allowed.some((g) => groups.includes(g));
}

/** `identity.allowedGroups`: may this person use keyhole at all? */
export function mayUseKeyhole(identity: Pick<IdentityConfig, 'allowedGroups'>, groups: readonly string[]): boolean {
  return memberOfAny(groups, identity.allowedGroups);
}

/** The server's `access.groups`: may this person use this server? */
export function mayUseServer(server: Pick<ServerConfig, 'access'>, groups: readonly string[]): boolean {
  return memberOfAny(groups, server.access?.groups);
}

/** The scopes among `scopes` this person may be granted on `server` (each scope's `groups`). */
export function permittedScopes(server: Pick<ServerConfig, 'scopes'>, groups: readonly string[], scopes: readonly string[]): string[] {
  return scopes.filter((s) => memberOfAny(groups, server.scopes?.[s]?.groups));
}

export type AccessDecision = { ok: true; scopes: string[] } | { ok: false; reason: AccessRefusal };

/**
 * The whole decision for one authorization request: keyhole, then the server, then the scopes. `requested` is the
 * client's scope list; the scopes offered are the grantable ones (config/scopes.ts `grantableScopes`: the requested
 * ones the server knows, or all of them when none is) the person may have. None left: refused.
 */
export function decideAccess(
  identity: Pick<IdentityConfig, 'allowedGroups'>,
  server: Pick<ServerConfig, 'access' | 'scopes'>,
  groups: readonly string[],
  requested: readonly string[],
): AccessDecision {
  if (!mayUseKeyhole(identity, groups)) return { ok: false, reason: 'not_in_allowed_groups' };
  if (!mayUseServer(server, groups)) return { ok: false, reason: 'not_in_server_groups' };
  const scopes = permittedScopes(server, groups, grantableScopes(server as ServerConfig, requested));
  return scopes.length ? { ok: true, scopes } : { ok: false, reason: 'no_permitted_scope' };
}

/** `identity.admins`: is this person an admin (a member of an admin group, or one of the listed emails)? */
export function isAdmin(identity: Pick<IdentityConfig, 'admins'>, person: { groups: readonly string[]; email: string | null }): boolean {
  const admins = identity.admins;
  if (!admins) return false;
  if (admins.groups?.some((g) => person.groups.includes(g))) return true;
  const email = person.email?.toLowerCase();
  return !!email && !!admins.emails?.some((e) => e.toLowerCase() === email);
}
