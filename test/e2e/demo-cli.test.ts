/**
 * `keyhole demo` as an operator runs it: three explicit ports, all printed; a taken port names the component that
 * needed it; the temporary database is deleted on exit; oidc-provider's development warnings are explained, not shown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import { ensureBuiltCli, runCli, startCli, waitForOutput } from '../helpers/keyhole-cli.js';
import { freePort } from '../helpers/free-port.js';

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

describe('keyhole demo (CLI)', () => {
  beforeAll(async () => ensureBuiltCli(), 180_000);

  it('prints all three ports, deletes its temporary database on exit, and hides oidc-provider\'s warnings', async () => {
    const [port, authPort, upstreamPort] = [await freePort(), await freePort(), await freePort()];
    const demo = startCli(['demo', '--port', String(port), '--auth-port', String(authPort), '--upstream-port', String(upstreamPort)], { env: { PATH: process.env.PATH ?? '' } });
    let dbPath = '';
    try {
      await waitForOutput(demo, (out) => out.includes('Press Ctrl+C'));
      const out = demo.stdout();
      expect(out).toContain(`MCP endpoint (connect your client here):  http://127.0.0.1:${port}/mcp/demo`);
      expect(out).toContain(`Upstream authorization server (oidc-provider, --auth-port): http://127.0.0.1:${authPort}`);
      expect(out).toContain(`Upstream MCP server (--upstream-port; only keyhole talks to it): http://127.0.0.1:${upstreamPort}/mcp`);
      dbPath = /^Database: (.+)$/m.exec(out)![1]!;
      expect(existsSync(dbPath)).toBe(true);
      const discovery = await fetch(`http://127.0.0.1:${port}/.well-known/oauth-authorization-server`);
      expect(discovery.status).toBe(200);
    } finally {
      demo.child.kill('SIGINT');
    }
    const done = await demo.done;
    expect(done.code).toBe(0);
    expect(existsSync(dirname(dbPath))).toBe(false);
    expect(done.stderr).not.toContain('oidc-provider WARNING');
  });

  for (const [flag, component] of [
    ['--port', 'keyhole'],
    ['--auth-port', "the demo's upstream authorization server (oidc-provider)"],
    ['--upstream-port', "the demo's upstream MCP server"],
  ] as const) {
    it(`names the component when the ${flag} port is taken`, async () => {
      const ports: Record<string, number> = { '--port': await freePort(), '--auth-port': await freePort(), '--upstream-port': await freePort() };
      const blocker = await occupy(ports[flag]!);
      try {
        const r = await runCli(['demo', ...Object.entries(ports).flatMap(([f, p]) => [f, String(p)])], { env: { PATH: process.env.PATH ?? '' }, timeoutMs: 30_000 });
        expect(r.stderr).toContain(`keyhole: port ${ports[flag]} is already in use: ${component} cannot listen there; choose another with ${flag} N\n`);
        expect(r.code).toBe(1);
      } finally {
        blocker.close();
      }
    });
  }
});
