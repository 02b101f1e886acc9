/**
 * grant_type=refresh_token: the form is read here, the rotation rules (grace window, replay revokes the family —
 * docs/invariants.md #5, scope may only narrow) are the grant service's (src/grants/rotate-refresh-token.ts).
 * - `resource` is optional: without it the tokens stay bound to the grant's resource (RFC 8707 §2.2).
 * - Scopes keyhole does not know (`openid`, `offline_access`, …) are ignored, as at /authorize (RFC 6749 §3.3).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
 */
import type { GrantTypeHandler } from './grant-type.js';
import { InvalidRequestError } from '../../oauth/errors.js';
import { parseScope } from '../../oauth/scope.js';
import { resolveResource } from '../../oauth/resource.js';
import { withoutClientExtras } from '../../config/scopes.js';

export const refreshTokenGrant: GrantTypeHandler = async (deps, _c, form, client) => {
  const token = form.get('refresh_token');
  if (!token) throw new InvalidRequestError('refresh_token is required');
  // Clients resend what they first asked for (`openid offline_access …`); the extras were ignored at /authorize
  // (scopes.ts) and are ignored here too, instead of failing the refresh with invalid_scope.
  const requested = withoutClientExtras(deps.config, parseScope(form.get('scope')));
  const resourceParam = form.get('resource');
  return await deps.grants.rotateRefreshToken({
    token, clientId: client.clientId, requested,
    resourceFor: (server) => (resourceParam === null ? undefined : resolveResource(deps.resources, resourceParam, server).resource),
  });
};
