/**
 * Decides a request's `tools/call` messages against a grant's scopes, all of them at once (a batch is checked
 * message by message, and one answer covers the whole request):
 * - every call allowed → `allowed`;
 * - some call names a tool that NO scope names (and the server's default policy denies it) → `unavailable`: no
 *   authorization can fix it, so the answer must not invite a step-up (a client would re-authorize or refresh in
 *   vain), it is a JSON-RPC error the agent can read;
 * - otherwise → `step_up`, with the union of the held scopes and one scope for each refused tool, so that a single
 *   challenge asks for everything this request needs (clients retry once per distinct challenge).
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1 (insufficient_scope)
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#scope-challenge-handling
 */
import { union } from '../oauth/scope.js';
import type { ToolPolicy } from './tool-policy.js';

export interface ToolCall {
  id?: unknown;
  name: unknown;
}

export type ToolCallDecision =
  | { kind: 'allowed' }
  | { kind: 'missing_name'; id: unknown }
  | { kind: 'unavailable'; id: unknown; tool: string }
  | { kind: 'step_up'; id: unknown; tools: string[]; needed: string[]; scopes: string[] };

export function decideToolCalls(policy: ToolPolicy, held: readonly string[], calls: readonly ToolCall[]): ToolCallDecision {
  let stepUp: Extract<ToolCallDecision, { kind: 'step_up' }> | undefined;
  for (const call of calls) {
    if (typeof call.name !== 'string') return { kind: 'missing_name', id: call.id };
    if (policy.allows(held, call.name)) continue;
    const needed = policy.scopesFor(call.name);
    if (needed.length === 0) return { kind: 'unavailable', id: call.id, tool: call.name };
    // Any one of the scopes naming the tool allows it; ask for the first (the config's order).
    const ask = needed.slice(0, 1);
    stepUp = stepUp
      ? { ...stepUp, tools: [...stepUp.tools, call.name], needed: union(stepUp.needed, ask), scopes: union(stepUp.scopes, ask) }
      : { kind: 'step_up', id: call.id, tools: [call.name], needed: ask, scopes: union(held, ask) };
  }
  return stepUp ?? { kind: 'allowed' };
}
