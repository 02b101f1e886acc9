/**
 * Pinned tools in the admin JSON API (issue 15, `pinTools`): see what the upstream lists against what was
 * approved, and approve it. Bearer admin token, like the rest of /admin/api.
 *
 *   GET  /admin/api/servers/:name/tools           {"server","approved":{name:digest},"approved_at","approved_by","listed":[tools],"diff"}
 *   POST /admin/api/servers/:name/tools/approve   optional {"tools":["name",…]} (default: every listed tool)
 *
 * What is approved is the form of each tool keyhole last saw in the upstream's own `tools/list` answer (before any
 * filter): description and inputSchema, as a SHA-256 digest (src/policy/pinned-tools.ts). The approval replaces
 * the server's list, is stored (`store.approvedTools`, src/store/repositories/approved-tools.ts), takes effect at once, and is recorded as a
 * `tools.approved` event (names only).
 */
import { Hono, type Context } from 'hono';
import type { PinRegistry } from '../policy/pin-registry.js';
import type { ApprovedToolsRepository } from '../store/types.js';
import { mediaType } from '../http/media-type.js';
import { parseJsonObject } from '../http/json-object.js';
import type { AdminContext } from './admin-context.js';
import { adminBearer } from './api-auth.js';
import { TOKEN_ACTOR } from './session.js';

export interface ToolApprovalDeps {
  pinRegistry: PinRegistry;
  approvedTools: ApprovedToolsRepository;
}

const fail = (c: Context, status: 400 | 404 | 409, error: string, description: string) => c.json({ error, error_description: description }, status);

/** The body: absent/empty, or a JSON object with an optional `tools` array of names. */
async function namesOf(c: Context): Promise<{ names?: string[] } | string> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  if (mediaType(c.req.header('content-type')) !== 'application/json') return 'the body must be application/json';
  const body = parseJsonObject(text);
  if (!body.ok) return body.reason === 'not-json' ? 'the body is not valid JSON' : 'the body must be a JSON object';
  for (const k of Object.keys(body.value)) if (k !== 'tools') return `unknown field ${JSON.stringify(k.slice(0, 40))}: use tools`;
  const tools = body.value.tools;
  if (tools === undefined) return {};
  if (!Array.isArray(tools) || tools.length > 10_000 || !tools.every((t) => typeof t === 'string' && t.length > 0 && t.length <= 200)) return 'tools must be an array of tool names';
  return { names: [...new Set(tools as string[])] };
}

export function toolApprovalRoutes(ctx: AdminContext, deps: ToolApprovalDeps, token: string): Hono {
  const { pinRegistry, approvedTools } = deps;
  const app = new Hono();
  app.use('/admin/api/servers/*', adminBearer({ token, limiter: ctx.limiter, events: ctx.events }));

  const server = (c: Context): string | Response => {
    const name = c.req.param('name') ?? '';
    if (!Object.hasOwn(ctx.config.servers, name)) return fail(c, 404, 'not_found', 'no such server');
    if (!pinRegistry.pinned(name)) return fail(c, 400, 'invalid_request', `the server ${name} does not pin its tools (pinTools is off)`);
    return name;
  };

  app.get('/admin/api/servers/:name/tools', async (c) => {
    const name = server(c);
    if (typeof name !== 'string') return name;
    const stored = await approvedTools.get(name);
    const { diff } = pinRegistry.snapshotOf(name);
    return c.json({ server: name, approved: pinRegistry.approved(name), approved_at: stored?.approvedAt ?? null, approved_by: stored?.approvedBy ?? null, listed: pinRegistry.listed(name), diff });
  });

  app.post('/admin/api/servers/:name/tools/approve', async (c) => {
    const name = server(c);
    if (typeof name !== 'string') return name;
    const body = await namesOf(c);
    if (typeof body === 'string') return fail(c, 400, 'invalid_request', body);
    if (pinRegistry.listed(name).length === 0) {
      return fail(c, 409, 'conflict', 'keyhole has not seen this server list its tools since it started: list the tools through keyhole first');
    }
    const { snapshot, unknown, diff } = pinRegistry.snapshotOf(name, body.names);
    if (unknown.length) return fail(c, 400, 'invalid_request', `not listed by the upstream: ${unknown.slice(0, 20).join(', ')}`);
    const at = ctx.clock();
    const by = TOKEN_ACTOR;
    await approvedTools.approve(name, snapshot, by, at); // stored first: a restart keeps what took effect
    pinRegistry.setApproved(name, snapshot);
    const approved = Object.keys(snapshot).sort();
    await ctx.events.record({ type: 'tools.approved', server: name, detail: { by, tools: approved, changed: diff.changed, added: diff.added, removed: diff.removed } });
    return c.json({ server: name, approved, approved_at: at, approved_by: by, diff });
  });
  return app;
}
