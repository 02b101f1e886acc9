// Minimal ambient types for oidc-provider 9 (the package ships none and
// @types/oidc-provider is not a dependency). Only what the demo peers use.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type AnyObject = Record<string, unknown>;

  export interface KoaContextWithOIDC {
    method: string;
    path: string;
    query: Record<string, string | string[] | undefined>;
    oidc: AnyObject & {
      route?: string;
      params?: Record<string, unknown>;
    };
    [key: string]: unknown;
  }

  export type Next = () => Promise<void>;

  export interface ClientLike {
    clientId: string;
    grantTypeAllowed(type: string): boolean;
    [key: string]: unknown;
  }

  export interface ResourceServerInfo {
    scope: string;
    audience?: string;
    accessTokenTTL?: number;
    accessTokenFormat?: 'opaque' | 'jwt';
    jwt?: { sign?: { alg?: string; kid?: string } };
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string, claims: unknown, rejected: string[]): Promise<AnyObject> | AnyObject;
  }

  export type Configuration = AnyObject & {
    findAccount?: (ctx: KoaContextWithOIDC, sub: string, token?: unknown) => Promise<Account | undefined> | Account | undefined;
  };

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    proxy: boolean;
    silent: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: (ctx: KoaContextWithOIDC, next: Next) => unknown): this;
    on(event: string, listener: (...args: any[]) => void): this;
    off(event: string, listener: (...args: any[]) => void): this;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<AnyObject>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: AnyObject, opts?: AnyObject): Promise<void>;
    readonly Client: { find(id: string): Promise<ClientLike | undefined> };
    [key: string]: unknown;
  }

  export namespace errors {
    class OIDCProviderError extends Error {
      constructor(description?: string, detail?: string);
      status: number;
      statusCode: number;
      expose: boolean;
      error: string;
      error_description?: string;
    }
    class InvalidTarget extends OIDCProviderError {}
    class InvalidRequest extends OIDCProviderError {}
    class InvalidScope extends OIDCProviderError {
      constructor(description?: string, scope?: string);
    }
    class AccessDenied extends OIDCProviderError {}
  }

  export const interactionPolicy: AnyObject;
  export default Provider;
}
