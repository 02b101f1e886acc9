/**
 * POST /revoke — RFC 7009. Unknown or already revoked tokens answer 200 (§2.2), and so do tokens issued to
 * another client, which are not revoked (see below).
 * Revoking a refresh token ends the whole grant: keyhole's tokens, the sealed upstream tokens, and the
 * upstream refresh token at the upstream (§2.1: "SHOULD also invalidate all access tokens based on the same
 * authorization grant"). Revoking an access token ends that token.
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2
 */
import { Hono } from 'hono';
import type { AuthorizationServerDeps } from './deps.js';
import { readForm } from '../http/read-form.js';
import { noStore } from '../http/no-store.js';
import { authenticateRequestClient } from './client-auth.js';
import { InvalidRequestError, UnsupportedTokenTypeError } from '../oauth/errors.js';
import { fingerprint, sha256Hex } from '../store/crypto/hash.js';
import type { Logger } from '../http/logger.js';

export function revokeRoutes(deps: AuthorizationServerDeps & { logger?: Logger }): Hono {
  const app = new Hono();
  const { store, events, clock } = deps;
  app.post('/revoke', noStore, async (c) => {
    const form = await readForm(c);
    const client = await authenticateRequestClient(c, form, deps);
    const token = form.get('token');
    if (!token) throw new InvalidRequestError('token is required');
    const hint = form.get('token_type_hint');
    if (hint !== null && hint !== 'access_token' && hint !== 'refresh_token') throw new UnsupportedTokenTypeError('token_type_hint must be access_token or refresh_token');
    const hash = sha256Hex(token);
    const refresh = await store.tokens.findRefresh(hash);
    const access = refresh ? undefined : await store.tokens.findAccess(hash);
    const owner = refresh?.clientId ?? access?.clientId;
    // https://www.rfc-editor.org/rfc/rfc7009#section-2.2 — "invalid tokens do not cause an error response".
    if (owner === undefined) return c.body(null, 200);
    if (owner !== client.clientId) {
      // https://www.rfc-editor.org/rfc/rfc7009#section-2.1 — the server "verifies whether the token was issued to
      // the client making the revocation request"; if not, the request is refused. keyhole refuses it: another
      // client's token is never revoked (client ids of public clients are public, so a revocation on anyone's
      // word would let any registered client end other clients' grants). But it answers exactly as for an unknown
      // token (§2.2), not with an error: to this client the token is invalid, and a distinct answer would confirm
      // that a guessed or leaked string is a live token of some other client (an oracle; issue 9, F9). The
      // operator still learns of it: a client holding another client's token suggests a leak.
      deps.logger?.warn('keyhole.revoke_foreign_token', { client_id: client.clientId, owner_client_id: owner, grant_id: (refresh ?? access)!.grantId, token_fp: fingerprint(token) });
      return c.body(null, 200);
    }
    if (refresh) {
      await deps.grants.revoke(refresh.grantId, 'client_revoked', `client:${client.clientId}`);
    } else if (access && access.revokedAt === null) {
      await store.tokens.revokeAccess(hash, clock());
      await events.record({ type: 'token.revoked', grantId: access.grantId, clientId: client.clientId, server: access.server, subject: access.subject, detail: { access_fp: fingerprint(token), actor: `client:${client.clientId}` } });
    }
    return c.body(null, 200);
  });
  return app;
}
