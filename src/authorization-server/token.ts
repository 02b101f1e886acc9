/**
 * POST /token — form-encoded in, JSON out, `Cache-Control: no-store`. Grant types go through a map.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.2
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1
 */
import { Hono } from 'hono';
import type { AuthorizationServerDeps } from './deps.js';
import { readForm } from '../http/read-form.js';
import { noStore } from '../http/no-store.js';
import { authenticateRequestClient } from './client-auth.js';
import { InvalidRequestError, UnauthorizedClientError, UnsupportedGrantTypeError } from '../oauth/errors.js';
import type { GrantTypeHandler } from './grants/grant-type.js';
import { authorizationCodeGrant } from './grants/authorization-code.js';
import { refreshTokenGrant } from './grants/refresh-token.js';

const GRANT_TYPES: Readonly<Record<string, GrantTypeHandler>> = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
};

export function tokenRoutes(deps: AuthorizationServerDeps): Hono {
  const app = new Hono();
  app.post('/token', noStore, async (c) => {
    const form = await readForm(c);
    const grantType = form.get('grant_type');
    if (!grantType) throw new InvalidRequestError('grant_type is required');
    const handler = Object.hasOwn(GRANT_TYPES, grantType) ? GRANT_TYPES[grantType] : undefined;
    if (!handler) throw new UnsupportedGrantTypeError(`grant_type ${JSON.stringify(grantType.slice(0, 64))} is not supported`);
    const client = await authenticateRequestClient(c, form, deps);
    const allowed = client.metadata.grant_types;
    if (Array.isArray(allowed) && !allowed.includes(grantType)) throw new UnauthorizedClientError(`this client may not use ${grantType}`);
    return c.json(await handler(deps, c, form, client));
  });
  return app;
}
