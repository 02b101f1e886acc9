/**
 * Discovery documents.
 * - Authorization server metadata (RFC 8414) at `/.well-known/oauth-authorization-server`; issuer = publicUrl.
 * - Protected resource metadata (RFC 9728) at the path-inserted URL of each MCP endpoint, and at the root
 *   when keyhole serves exactly one server (the root form can describe only one resource).
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3
 */
import { Hono } from 'hono';
import type { KeyholeConfig } from '../config/schema.js';
import { resourceUrl } from '../oauth/resource.js';
import { knownScopes, serverScopes } from '../config/scopes.js';
import { publicCors } from '../http/cors.js';


export function protectedResourceMetadata(config: KeyholeConfig, server: string): Record<string, unknown> {
  const s = config.servers[server]!;
  return {
    resource: resourceUrl(config.publicUrl, server),
    // docs/client-requirements.md B.8: byte-identical to the AS metadata issuer.
    authorization_servers: [config.publicUrl],
    // offline_access stays out of the PRM (docs/client-requirements.md D.20; the SDK adds prompt=consent when it sees it).
    scopes_supported: serverScopes(s),
    bearer_methods_supported: ['header'],
    resource_name: s.displayName ?? server,
  };
}

export function authorizationServerMetadata(config: KeyholeConfig): Record<string, unknown> {
  const base = config.publicUrl;
  const scopes = knownScopes(config);
  return {
    issuer: base,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/token`,
    registration_endpoint: `${base}/register`,
    revocation_endpoint: `${base}/revoke`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    // Clients MUST refuse an AS without this field (MCP authorization, "Authorization Code Protection").
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    scopes_supported: scopes,
    // RFC 9207: every authorization response carries `iss`.
    authorization_response_iss_parameter_supported: true,
    // draft-ietf-oauth-client-id-metadata-document §5: URL client ids are resolved (client-id-metadata.ts).
    client_id_metadata_document_supported: config.cimd.enabled,
    service_documentation: 'https://www.npmjs.com/package/mcp-keyhole',
  };
}

export function metadataRoutes(config: KeyholeConfig): Hono {
  const app = new Hono();
  const cors = publicCors();
  const asMetadata = authorizationServerMetadata(config);
  const servers = Object.keys(config.servers);
  app.use('/.well-known/*', cors);
  app.get('/.well-known/oauth-authorization-server', (c) => c.json(asMetadata));
  app.get('/.well-known/oauth-protected-resource/mcp/:server', (c) => {
    const server = c.req.param('server');
    if (!Object.hasOwn(config.servers, server)) return c.json({ error: 'not_found', error_description: 'no such MCP server' }, 404);
    return c.json(protectedResourceMetadata(config, server));
  });
  app.get('/.well-known/oauth-protected-resource', (c) => {
    if (servers.length !== 1) return c.json({ error: 'not_found', error_description: 'several MCP servers: use /.well-known/oauth-protected-resource/mcp/<server>' }, 404);
    return c.json(protectedResourceMetadata(config, servers[0]!));
  });
  return app;
}
