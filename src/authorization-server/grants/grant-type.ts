import type { Context } from 'hono';
import type { ClientRecord } from '../../store/types.js';
import type { AuthorizationServerDeps } from '../deps.js';
import type { TokenResponse } from '../../grants/issue-tokens.js';

/** A grant type handler of the token endpoint (node-oidc-provider `actions/grants`). */
export type GrantTypeHandler = (deps: AuthorizationServerDeps, c: Context, form: URLSearchParams, client: ClientRecord) => Promise<TokenResponse> | TokenResponse;
