/**
 * grant_type=authorization_code: the form is read here; the redemption rules (single use, a replay revokes what the
 * code issued — docs/invariants.md #4, PKCE) are the grant service's (src/grants/redeem-code.ts).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3
 */
import type { GrantTypeHandler } from './grant-type.js';
import { InvalidRequestError } from '../../oauth/errors.js';
import { resolveResource } from '../../oauth/resource.js';

export const authorizationCodeGrant: GrantTypeHandler = async (deps, _c, form, client) => {
  const code = form.get('code');
  if (!code) throw new InvalidRequestError('code is required');
  const resourceParam = form.get('resource');
  return await deps.grants.redeemCode({
    code, clientId: client.clientId, redirectUri: form.get('redirect_uri'), codeVerifier: form.get('code_verifier') ?? undefined,
    // RFC 8707 §2.2: the resource at the token endpoint must be one the grant covers.
    resourceFor: (server) => (resourceParam === null ? undefined : resolveResource(deps.resources, resourceParam, server).resource),
  });
};
