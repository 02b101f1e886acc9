/**
 * A SIGTERM during a refresh storm (issue 12 §3 "Drain"): `keyhole serve` in a child process, 4 grants with 3
 * concurrent callers each, every call refreshing the upstream token (upstreamRefreshSkewSeconds longer than the
 * token's lifetime) against oidc-provider with rotating refresh tokens. keyhole drains and exits 0; after a restart
 * every grant still works without re-consent, and oidc-provider answered no `invalid_grant` (no rotated refresh token
 * was lost and replayed). On a SQLite file and on a real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyholeProcess } from '../helpers/keyhole-process.js';
import { StormKeyhole } from '../helpers/storm-keyhole.js';
import { startStorm, whoami, type StormGrant } from '../helpers/refresh-storm.js';

describe.each(['sqlite', 'postgres'] as const)('SIGTERM during a refresh storm (%s)', (engine) => {
  let kp: KeyholeProcess;
  let grants: StormGrant[];
  const setup = new StormKeyhole(engine);
  beforeAll(async () => {
    ({ kp, grants } = await setup.start());
  }, 120_000);
  afterAll(() => setup.close());

  it('drains, exits 0 and loses no grant', async () => {
    for (let round = 0; round < 3; round++) {
      const run = kp.running()!;
      const storm = startStorm(kp.mcpUrl, grants, 3);
      const before = kp.refreshes();
      while (kp.refreshes() - before < 20) await new Promise((r) => setTimeout(r, 10)); // the storm is under way
      run.child.kill('SIGTERM');
      const exit = await run.done;
      await storm.stop();
      expect(exit.code, exit.stderr.slice(-2000)).toBe(0);
      expect(exit.stderr).toContain('"step":"persist-refreshes"');
      expect(kp.invalidGrants()).toBe(0);
      await kp.start();
    }
    for (const g of grants) expect(await whoami(kp.mcpUrl, g)).toEqual({ ok: true, sub: g.login });
    expect(kp.invalidGrants()).toBe(0);
    expect(kp.refreshes()).toBeGreaterThan(60);
  }, 120_000);
});
