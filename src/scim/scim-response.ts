/**
 * SCIM 2.0 responses: `application/scim+json` (RFC 7644 §3.1, §8.1) and the error schema (RFC 7644 §3.12):
 * `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"…","scimType"?:"…"}`, with the
 * HTTP status repeated as a string. `scimType` only where RFC 7644 §3.12 defines one (400 and 409 errors).
 */
import type { Context } from 'hono';

export const SCIM_CONTENT_TYPE = 'application/scim+json';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

/** RFC 7644 §3.12, Table 9: the scimType values keyhole uses. */
export type ScimType = 'invalidFilter' | 'uniqueness' | 'invalidSyntax' | 'invalidPath' | 'noTarget' | 'invalidValue' | 'mutability';

export type ScimStatus = 200 | 201 | 400 | 401 | 404 | 405 | 409 | 413 | 415 | 429 | 500;

/** A SCIM error the routes throw; scim-routes.ts turns it into the error body. */
export class ScimError extends Error {
  override name = 'ScimError';
  constructor(readonly status: Exclude<ScimStatus, 200 | 201>, detail: string, readonly scimType?: ScimType) {
    super(detail);
  }
}

export function scimJson(c: Context, body: unknown, status: 200 | 201 = 200): Response {
  c.header('Cache-Control', 'no-store');
  return c.body(JSON.stringify(body), status, { 'Content-Type': SCIM_CONTENT_TYPE });
}

export function scimErrorBody(status: number, detail: string, scimType?: ScimType): Record<string, unknown> {
  return { schemas: [ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail };
}

export function scimError(c: Context, e: ScimError): Response {
  c.header('Cache-Control', 'no-store');
  return c.body(JSON.stringify(scimErrorBody(e.status, e.message, e.scimType)), e.status, { 'Content-Type': SCIM_CONTENT_TYPE });
}
