/**
 * Step 7 of `/mcp/{server}`: which upstream credential the grant's request carries: the server's own source
 * (identity JWT, static API key) or, by default, the grant's upstream OAuth token from the token manager (refreshed
 * single-flight per grant). The credential is fetched lazily by the forwarder (and once more, forced, when the
 * upstream refuses it), so its failures surface while forwarding: {@link credentialFailure} turns them into answers.
 * Puts on the context: `mcp.credential`.
 */
import type { Context } from 'hono';
import type { UpstreamCredentialSource } from '../../upstream/credential-source.js';
import { GrantEndedError, UpstreamUnavailableError } from '../../upstream/errors.js';
import { jsonRpcErrorBody, JSONRPC_ERRORS } from '../jsonrpc-errors.js';
import { authenticated, type McpEnv, type McpServerRoute, type McpStep } from './mcp-request.js';

export interface CredentialOptions {
  /** The default source: the upstream token manager. */
  tokenManager: UpstreamCredentialSource;
  /** Per server, what to inject upstream instead (identity JWT, static key). */
  credentialSources?: ReadonlyMap<string, UpstreamCredentialSource>;
}

export function credential(opts: CredentialOptions): McpStep {
  if (!opts || typeof opts.tokenManager?.getCredential !== 'function') throw new TypeError('credential: tokenManager is required');
  if (opts.credentialSources !== undefined && !(opts.credentialSources instanceof Map)) throw new TypeError('credential: credentialSources must be a Map');
  const { tokenManager, credentialSources } = opts;

  return async function attachUpstreamCredential(c, next) {
    const req = c.get('mcp');
    const { grant } = authenticated(req);
    const source = credentialSources?.get(req.server) ?? tokenManager;
    req.credential = { grantId: grant.id, getAccessToken: (force) => source.getCredential(grant, force) };
    await next();
  };
}

/** The answer to an error the credential source threw while forwarding, or undefined when it is not one of its own. */
export function credentialFailure(c: Context<McpEnv>, route: McpServerRoute, e: unknown): Response | undefined {
  if (e instanceof GrantEndedError) {
    // docs/client-requirements.md E.25: upstream invalid_grant → 401 with the challenge, so the client re-authorizes.
    c.header('WWW-Authenticate', route.endedChallenge);
    return c.json({ error: 'invalid_token', error_description: 'the upstream authorization has ended; authorize again' }, 401);
  }
  if (e instanceof UpstreamUnavailableError) {
    const name = e.kind === 'timeout' ? 'UPSTREAM_AUTH_TIMEOUT' : 'UPSTREAM_AUTH_UNAVAILABLE';
    return c.json(jsonRpcErrorBody(name), JSONRPC_ERRORS[name].status);
  }
  return undefined;
}
