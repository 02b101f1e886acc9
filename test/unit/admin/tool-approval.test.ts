/**
 * The pinned-tools admin API (src/admin/tool-approval-routes.ts) over the real SQLite repository (migration 6) and
 * the live pin registry: review, approve, 409 before anything was listed, bad input, bearer only.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { parseConfig } from '../../../src/config/load-config.js';
import type { ApprovedToolsRepository } from '../../../src/store/types.js';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { createPinRegistry, type PinRegistry } from '../../../src/policy/pin-registry.js';
import { toolDigest } from '../../../src/policy/pinned-tools.js';
import { EventRecorder } from '../../../src/events/recorder.js';
import type { GrantService } from '../../../src/grants/grant-service.js';
import { createAdminContext } from '../../../src/admin/admin-context.js';
import { toolApprovalRoutes } from '../../../src/admin/tool-approval-routes.js';

const TOKEN = 'admin-token-for-unit-tests-0123456789';
const oauth = { issuer: 'http://127.0.0.1:9', clientId: 'k', clientSecret: 's', scopes: [] };
const add = { name: 'add', description: 'Add two numbers', inputSchema: { type: 'object' } };
const sub = { name: 'sub', description: 'Subtract' };

describe('admin API: pinned tools', () => {
  let store: SqliteStore;
  let registry: PinRegistry;
  let repo: ApprovedToolsRepository;
  let app: Hono;
  const call = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const { token = TOKEN, ...rest } = init;
    return Promise.resolve(app.request(`http://kh.test/admin/api/servers/${path}`, { ...rest, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...rest.headers } }));
  };

  beforeEach(() => {
    store = openSqliteStore(':memory:');
    const config = parseConfig({ publicUrl: 'http://kh.test', admin: { token: TOKEN }, servers: { demo: { upstream: 'http://127.0.0.1:9/mcp', oauth, pinTools: true }, open: { upstream: 'http://127.0.0.1:9/mcp', oauth } } });
    const events = new EventRecorder(store, () => {}, () => 1_700_000_000);
    const ctx = createAdminContext({ config, store, events, grants: {} as GrantService, clock: () => 1_700_000_000 }, TOKEN);
    registry = createPinRegistry(['demo']);
    repo = store.approvedTools;
    app = new Hono();
    app.route('/', toolApprovalRoutes(ctx, { pinRegistry: registry, approvedTools: repo }, TOKEN));
  });
  afterEach(() => store.close());

  it('needs the bearer admin token', async () => {
    expect((await call('demo/tools', { token: null })).status).toBe(401);
    expect((await call('demo/tools/approve', { method: 'POST', token: 'wrong-token-wrong-token-wrong' })).status).toBe(401);
  });

  it('answers 409 before the upstream listed anything, 404 for an unknown server, 400 for a server without pinTools', async () => {
    const early = await call('demo/tools/approve', { method: 'POST' });
    expect(early.status).toBe(409);
    expect(((await early.json()) as { error: string }).error).toBe('conflict');
    expect((await call('nope/tools')).status).toBe(404);
    expect(await (await call('open/tools/approve', { method: 'POST' })).json()).toEqual({ error: 'invalid_request', error_description: 'the server open does not pin its tools (pinTools is off)' });
  });

  it('approves what was listed: stored, live at once, recorded; a subset by name; unknown names refused', async () => {
    const pins = registry.pins('demo')!;
    expect([add, sub].map((t) => pins.keepTool(t))).toEqual([false, false]);
    const review = await (await call('demo/tools')).json();
    expect(review).toEqual({ server: 'demo', approved: {}, approved_at: null, approved_by: null, listed: [add, sub], diff: { unchanged: [], changed: [], added: ['add', 'sub'], removed: [] } });

    const one = await call('demo/tools/approve', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tools: ['add'] }) });
    expect(await one.json()).toEqual({ server: 'demo', approved: ['add'], approved_at: 1_700_000_000, approved_by: 'admin:token', diff: { unchanged: [], changed: [], added: ['add', 'sub'], removed: [] } });
    expect(await repo.get('demo')).toEqual({ server: 'demo', tools: { add: toolDigest(add) }, approvedBy: 'admin:token', approvedAt: 1_700_000_000 });
    const live = registry.pins('demo')!;
    expect([live.keepTool(add), live.keepTool(sub)]).toEqual([true, false]);
    expect(live.checkCall('add')).toEqual({ ok: true });
    expect((await store.events.list({ type: 'tools.approved' })).map((e) => e.detail)).toEqual([{ by: 'admin:token', tools: ['add'], changed: [], added: ['add', 'sub'], removed: [] }]);

    const ghost = await call('demo/tools/approve', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tools: ['ghost'] }) });
    expect(ghost.status).toBe(400);
    for (const body of ['{"tools":"add"}', '{"other":1}', '[]', 'nope']) {
      expect((await call('demo/tools/approve', { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status, body).toBe(400);
    }
    expect((await call('demo/tools/approve', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })).status).toBe(400);
    expect(Object.keys((await repo.get('demo'))!.tools)).toEqual(['add']); // refused approvals changed nothing
  });
});
