/**
 * The limits step of `/mcp/{server}` (issue 15): the server's and the global `limits` (token buckets per person,
 * per client, per tool pattern and per upstream, and the upstream's concurrency gate; ../../policy/rate-limiter.ts).
 * - What counts: every JSON-RPC request or notification in a POST body (a batch counts each message); a
 *   `tools/call` also counts against the tool's buckets. GET (the server's SSE stream), DELETE (session end) and a
 *   POST of responses only are not counted.
 * - Keys: the person (`grant.personId` once people exist, else the grant's upstream subject, so two clients of one
 *   upstream account share a person's buckets), the OAuth client, the tool. Never an address.
 * - A refusal is 429 `RATE_LIMITED` (-32029) with `Retry-After` and `data` naming the limit, with the id of the
 *   refused message; nothing later runs and nothing reaches the upstream. Tokens the earlier messages of a refused
 *   batch took stay taken (each message is its own `check`: all-or-nothing per message).
 * - Concurrency slots are held until the answer has ended, failed, or the client went away (`close` on the
 *   client's response), or released at once when nothing was sent.
 * A body that is not JSON → 400 `PARSE_ERROR` (only on servers with limits: the step must read the body to count).
 * Puts on the context: `mcp.rpc`.
 * @see https://www.rfc-editor.org/rfc/rfc6585#section-4 (429 Too Many Requests)
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3 (Retry-After)
 */
import type { HttpBindings } from '@hono/node-server';
import type { ServerPolicies } from '../../policy/server-policy.js';
import type { LimitsRequest } from '../../policy/rate-limiter.js';
import { rateLimitedError } from '../../policy/jsonrpc-errors.js';
import { jsonRpcErrorBody, JSONRPC_ERRORS } from '../jsonrpc-errors.js';
import { authenticated, jsonRpcOf, type McpStep } from './mcp-request.js';

export interface EnforceLimitsOptions {
  /** The servers' traffic-policy units (../../policy/server-policy.ts). */
  policies: Pick<ServerPolicies, 'get'>;
}

const PARSE_ERROR = jsonRpcErrorBody('PARSE_ERROR');

/** The person a grant belongs to: its person id once identity exists, else its upstream subject. */
export function personOf(grant: { subject: string; personId?: string | null | undefined }): string {
  return grant.personId ?? grant.subject;
}

export function enforceLimits(opts: EnforceLimitsOptions): McpStep {
  if (!opts || typeof opts.policies?.get !== 'function') throw new TypeError('enforceLimits: policies is required');
  const { policies } = opts;

  return async function enforceRateLimits(c, next) {
    const req = c.get('mcp');
    const limits = policies.get(req.server)?.limits;
    if (!limits?.active || !req.body) return next();
    const rpc = jsonRpcOf(req);
    if (!rpc) return c.json(PARSE_ERROR, JSONRPC_ERRORS.PARSE_ERROR.status);
    const { grant } = authenticated(req);
    const person = personOf(grant);
    const releases: Array<() => void> = [];
    const releaseAll = (): void => {
      for (const r of releases.splice(0)) r();
    };
    for (const m of rpc.messages) {
      if (typeof m.method !== 'string') continue; // a response to the server: not a call
      const tool = m.method === 'tools/call' ? (m.params as { name?: unknown } | undefined)?.name : undefined;
      const ask: LimitsRequest = { person, clientId: grant.clientId, tool: typeof tool === 'string' ? tool : undefined };
      let decision;
      try {
        decision = await limits.check(ask);
      } catch (e) {
        releaseAll();
        throw e;
      }
      if (!decision.ok) {
        releaseAll();
        const refusal = rateLimitedError(m.id, decision.data);
        return c.json(refusal.body, 429, refusal.headers);
      }
      releases.push(decision.release);
    }
    if (releases.length === 0) return next();
    try {
      await next();
    } catch (e) {
      releaseAll();
      throw e;
    }
    // The answer is decided; a relayed body may still be streaming. 'close' comes when it has ended or failed,
    // or the client went away.
    const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
    if (outgoing && !outgoing.destroyed && !outgoing.writableFinished) outgoing.once('close', releaseAll);
    else releaseAll();
  };
}
