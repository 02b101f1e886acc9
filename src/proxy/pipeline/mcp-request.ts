/**
 * The step contract of the `/mcp/{server}` pipeline, and the one object the steps share.
 *
 * A step is a factory that checks its options when built and returns a named `async function (c, next)`, a Hono
 * middleware of {@link McpEnv} (as Hono's `bearer-auth`: a factory checks its options and returns a named function). mcp-route.ts lists the
 * steps in order and mounts them on one route. A step either
 * - refuses: returns a Response built from the one JSON-RPC error table (../jsonrpc-errors.ts) and does not call
 *   `next`, so nothing later runs and nothing reaches the upstream; or
 * - fills its part of the {@link McpRequest} (`c.get('mcp')`) and `await next()`.
 *
 * Code after `await next()` runs once the answer is decided: for a forwarded request, once the relay owns the
 * client's socket (the body may still be streaming; `c.env.outgoing` tells the status). An error thrown by a later
 * step does not reach an earlier step's `try`: Hono's compose hands it to `app.onError` at the level it was thrown
 * (read `c.error` after `next` to see it). So a step maps its own failures to answers itself.
 *
 * The traffic-policy steps (enforce-tool-rules, enforce-limits, redact-secrets, circuit-breaker) sit after the tool
 * scopes (they see the grant and the parsed tool calls) and before the credential (a refused call costs no upstream
 * token). The audit step runs right after resolve-server (refusals are on the record too). Later response
 * rewrites go through {@link addResponseTransform}.
 */
import type { HttpBindings } from '@hono/node-server';
import type { MiddlewareHandler } from 'hono';
import type { AccessTokenLookup } from '../../store/types.js';
import type { CredentialGrant } from '../../upstream/credential-source.js';
import type { ForwardAuth } from '../forwarder.js';
import type { ForwardTarget, ResponseTransform, UpstreamOutcome } from '../forward-target.js';
import { inspectJsonRpc, type InspectResult, type JsonRpcRequestInfo } from '../jsonrpc-inspect.js';

/** What the pipeline knows about one configured server, computed once when the route is built (resolve-server.ts). */
export interface McpServerRoute {
  /** The server's name, the `{server}` of `/mcp/{server}`. */
  readonly name: string;
  /** Its canonical resource URL: the audience every token presented here must carry. */
  readonly resource: string;
  /** Its protected resource metadata URL, named by every challenge. */
  readonly prmUrl: string;
  /** Its scopes as one space-separated string, named by every challenge. */
  readonly scope: string;
  /** keyhole's challenge when the upstream authorization has ended (re-authorize). */
  readonly endedChallenge: string;
  /** Where its requests go: upstream URL, timeout, and `endedChallenge` as the answer to a repeated upstream 401. */
  readonly target: ForwardTarget;
}

/**
 * The request as the steps see it, on the Hono context under `mcp` (`c.get('mcp')`). Each field names the step
 * that fills it; a step reads only what earlier steps filled (helpers below assert it).
 */
export interface McpRequest {
  /** resolve-server: the configured server. */
  readonly server: string;
  readonly route: McpServerRoute;
  /** resolve-server: the HTTP method (POST, GET or DELETE; the route answers others with 405). */
  readonly method: string;
  /** authenticate: the checked access token (known, not revoked, not expired, this audience, grant active). */
  token?: AccessTokenLookup;
  /** authenticate: the grant the token belongs to, with the token's keyhole scopes. */
  grant?: CredentialGrant;
  /** read-body: the whole request body of a POST (bounded by `maxBodyBytes`), null otherwise. */
  body: Buffer | null;
  /**
   * The parsed JSON-RPC body, filled the first time a step needs it ({@link jsonRpcOf}): methods, `tools/call`
   * names (`toolCalls`), `tools/list` ids. Absent when no step needed to look; the body is never re-serialised.
   */
  rpc?: InspectResult;
  /** enforce-tool-scopes: the rewrite of `tools/list` results (scope filter), when the request lists tools. */
  transformResponse?: ResponseTransform;
  /**
   * Later response rewrites, applied after `transformResponse` in the order added ({@link addResponseTransform}):
   * enforce-tool-rules (pinned `tools/list` filter), redact-secrets (guardrails).
   */
  responseTransforms?: ResponseTransform[];
  /** circuit-breaker: told what the upstream did (forward hands it to the forwarder as `onOutcome`). */
  onUpstreamOutcome?: (outcome: UpstreamOutcome) => void;
  /** credential: how the forwarder gets the upstream credential of this grant. */
  credential?: ForwardAuth;
  /** audit: the `traceparent` the forward step sends upstream when the client sent none. */
  traceparent?: string;
  /** Any refusing step: why it refused (a short code, e.g. `invalid_token`, `insufficient_scope`), for the audit record. */
  denial?: { reason: string };
}

export type McpEnv = { Bindings: HttpBindings; Variables: { mcp: McpRequest } };

/** One step of the pipeline. */
export type McpStep = MiddlewareHandler<McpEnv>;

function missing(what: string, step: string): never {
  throw new TypeError(`mcp pipeline: ${what} is not set; the ${step} step must run before this one`);
}

/** The token and grant `authenticate` put on the request. */
export function authenticated(req: McpRequest): { token: AccessTokenLookup; grant: CredentialGrant } {
  const { token, grant } = req;
  if (!token || !grant) missing('the checked token', 'authenticate');
  return { token, grant };
}

/** The credential `credential` put on the request. */
export function credentialOf(req: McpRequest): ForwardAuth {
  return req.credential ?? missing('the upstream credential', 'credential');
}

/**
 * The JSON-RPC content of the body, parsed once per request whichever step asks first; undefined when the body is
 * not JSON (the asking step answers PARSE_ERROR). Call it only when `req.body` is set.
 */
export function jsonRpcOf(req: McpRequest): JsonRpcRequestInfo | undefined {
  const rpc = (req.rpc ??= inspectJsonRpc(req.body));
  return rpc.ok ? rpc.info : undefined;
}

/** Appends a response rewrite; it runs after the `tools/list` scope filter and after those added before it. */
export function addResponseTransform(req: McpRequest, transform: ResponseTransform): void {
  (req.responseTransforms ??= []).push(transform);
}

/** Every response rewrite of the request, in order (scope filter first), or undefined when there is none. */
export function responseTransformsOf(req: McpRequest): ResponseTransform | ResponseTransform[] | undefined {
  const later = req.responseTransforms;
  if (!later?.length) return req.transformResponse;
  return req.transformResponse ? [req.transformResponse, ...later] : later.length === 1 ? later[0] : later;
}
