/**
 * OAuth protocol errors. Every protocol failure is an `OAuthError` subclass with a static `errorCode`;
 * the single `onError` in app.ts turns them into responses. Anything else becomes a generic `server_error`
 * without detail (docs/invariants.md #7).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.2.2
 */
export class OAuthError extends Error {
  static errorCode = 'server_error';
  readonly status: number = 400;
  constructor(message: string, readonly errorUri?: string) {
    super(message);
    this.name = new.target.name;
  }
  get errorCode(): string {
    return (this.constructor as typeof OAuthError).errorCode;
  }
  toJSON(): Record<string, string> {
    return { error: this.errorCode, error_description: this.message, ...(this.errorUri ? { error_uri: this.errorUri } : {}) };
  }
}

export class InvalidRequestError extends OAuthError { static override errorCode = 'invalid_request'; }
export class InvalidClientError extends OAuthError {
  static override errorCode = 'invalid_client';
  override readonly status = 401;
}
export class InvalidGrantError extends OAuthError { static override errorCode = 'invalid_grant'; }
export class UnauthorizedClientError extends OAuthError { static override errorCode = 'unauthorized_client'; }
export class UnsupportedGrantTypeError extends OAuthError { static override errorCode = 'unsupported_grant_type'; }
export class UnsupportedResponseTypeError extends OAuthError { static override errorCode = 'unsupported_response_type'; }
export class InvalidScopeError extends OAuthError { static override errorCode = 'invalid_scope'; }
export class AccessDeniedError extends OAuthError {
  static override errorCode = 'access_denied';
  override readonly status = 403;
}
/** RFC 8707 §2: the requested resource is invalid, missing, unknown or malformed. */
export class InvalidTargetError extends OAuthError { static override errorCode = 'invalid_target'; }
export class InvalidRedirectUriError extends OAuthError { static override errorCode = 'invalid_redirect_uri'; }
export class InvalidClientMetadataError extends OAuthError { static override errorCode = 'invalid_client_metadata'; }
export class UnsupportedTokenTypeError extends OAuthError { static override errorCode = 'unsupported_token_type'; }
export class TemporarilyUnavailableError extends OAuthError {
  static override errorCode = 'temporarily_unavailable';
  override readonly status = 503;
}
export class TooManyRequestsError extends OAuthError {
  static override errorCode = 'too_many_requests';
  override readonly status = 429;
}
export class PayloadTooLargeError extends OAuthError {
  static override errorCode = 'invalid_request';
  override readonly status = 413;
}
export class ServerError extends OAuthError {
  static override errorCode = 'server_error';
  override readonly status = 500;
}
