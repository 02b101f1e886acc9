/**
 * Pinned-tool approvals survive a restart: keyhole loads the stored approved lists when it starts listening, before
 * it serves a request (a pinned server otherwise approves nothing).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { startKeyholeInstance, type KeyholeInstance } from '../helpers/keyhole-instance.js';
import { toolDigest } from '../../src/policy/pinned-tools.js';

const TOKEN = 'admin-token-for-tests-0123456789';
const oauth = { issuer: 'http://127.0.0.1:9', clientId: 'k', clientSecret: 's' };
const servers = { demo: { upstream: 'http://127.0.0.1:9/mcp', oauth, pinTools: true } };

describe('pinned tools across a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyhole-pins-'));
  let instance: KeyholeInstance | undefined;
  afterAll(async () => {
    await instance?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the stored approved list at startup', async () => {
    const port = await freePort();
    const review = async (i: KeyholeInstance) =>
      (await (await i.keyhole.app.request(`${i.publicUrl}/admin/api/servers/demo/tools`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { approved: Record<string, string>; approved_by: string | null };
    instance = await startKeyholeInstance({ port, dir, servers, config: { admin: { token: TOKEN } } });
    expect(await review(instance)).toMatchObject({ approved: {}, approved_by: null });
    const digest = toolDigest({ description: 'Add', inputSchema: { type: 'object' } });
    await instance.keyhole.store.approvedTools.approve('demo', { add: digest }, 'admin:api', 1_700_000_000);
    const { masterKey } = instance;
    await instance.close();
    instance = await startKeyholeInstance({ port, dir, servers, config: { admin: { token: TOKEN } }, masterKey });
    expect(await review(instance)).toMatchObject({ approved: { add: digest }, approved_by: 'admin:api' });
  });
});
