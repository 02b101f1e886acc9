/**
 * `keyhole demo` (what `npm start` runs): the same upstream peers the other e2e tests use, started by the demo
 * code itself, and the real SDK client completing the flow against it. Plus the compiled CLI's refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo, demoBanner, type RunningDemo } from '../../src/demo.js';
import { connectThroughKeyhole } from '../helpers/sdk-client.js';
import { freePort } from '../helpers/free-port.js';

describe('keyhole demo', () => {
  let demo: RunningDemo;
  beforeAll(async () => {
    demo = await startDemo({ port: await freePort(), asPort: await freePort(), mcpPort: await freePort(), log: () => undefined });
  });
  afterAll(async () => demo?.close());

  it('prints how to connect a client and where the admin page is', () => {
    const banner = demoBanner(demo);
    expect(banner).toContain(`MCP endpoint (connect your client here):  ${demo.mcpUrl}`);
    expect(banner).toContain(`claude mcp add --transport http keyhole-demo ${demo.mcpUrl}`);
    expect(banner).toContain('ANY username and password');
    expect(banner).toContain(`admin token: ${demo.adminToken}`);
  });

  it('lets a user with no SaaS account finish the whole flow and call tools', async () => {
    const conn = await connectThroughKeyhole(demo.mcpUrl, { login: 'newcomer' });
    expect(conn.consent.consentHtml).toContain('Create and delete issues');
    const result = (await conn.client.callTool({ name: 'whoami', arguments: {} })) as { content: Array<{ text: string }> };
    expect(JSON.parse(result.content[0]!.text).sub).toBe('newcomer');
    await conn.client.close();
  });
});

describe('keyhole CLI (compiled, as `npx keyhole` runs it)', () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['bin/keyhole.js', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 });

  it('prints usage', () => {
    const r = cli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('keyhole serve --config');
  });

  it('exits non-zero naming the field path and reason of an invalid config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyhole-cli-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ publicUrl: 'http://127.0.0.1:1/', servers: { demo: { upstream: 'not a url', oauth: { clientId: 'x', issuer: 'http://127.0.0.1:2' } } } }));
    const r = cli(['serve', '--config', file]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('publicUrl: must not end with a slash');
    expect(r.stderr).toContain('servers.demo.upstream');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('names a missing environment variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyhole-cli-'));
    const file = join(dir, 'env.json');
    writeFileSync(file, JSON.stringify({ publicUrl: 'http://127.0.0.1:1', servers: { demo: { upstream: 'http://127.0.0.1:3/mcp', oauth: { clientId: 'x', clientSecret: '${UPSTREAM_SECRET_FOR_TEST}', issuer: 'http://127.0.0.1:2' } } } }));
    const r = cli(['serve', '--config', file]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('servers.demo.oauth.clientSecret: environment variable UPSTREAM_SECRET_FOR_TEST is not set');
  });

  it('names a missing master key and says how to make one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyhole-cli-'));
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify({ publicUrl: 'http://127.0.0.1:1', storage: { sqlite: join(dir, 'k.db') }, servers: { demo: { upstream: 'http://127.0.0.1:3/mcp', oauth: { clientId: 'x', issuer: 'http://127.0.0.1:2' } } } }));
    const r = cli(['serve', '--config', file]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('KEYHOLE_MASTER_KEY');
    expect(r.stderr).toContain("randomBytes(32).toString('base64url')");
  });
});
