/**
 * Refresh storm under SIGKILL (issue 12 §3, "SIGKILL at any moment loses no grant … except in the one window no
 * software can close"): 20 rounds, each SIGKILLs `keyhole serve` at a random moment during a refresh storm (4 grants ×
 * 3 concurrent callers, every call refreshing against oidc-provider with rotating refresh tokens, which revokes the
 * whole grant when a spent refresh token comes back), then starts it again on the same SQLite file.
 *
 * Every `invalid_grant` oidc-provider answers is classified by when oidc-provider had answered the refresh that spent
 * the replayed token, relative to the kill:
 * - after the kill (or within WINDOW_MS before it): the unavoidable window, the upstream committed a rotation whose
 *   answer never reached keyhole (the refresh request was in flight when the process died). Counted and reported;
 *   that user signs in again so the storm keeps its grants;
 * - more than WINDOW_MS before the kill: keyhole had the answer and did not persist it. That is a lost grant keyhole
 *   could have kept, and the test fails.
 * Afterwards every grant works (the ones never caught in the window without re-consent).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeyholeProcess, type KeyholeProcess } from '../helpers/keyhole-process.js';
import { makeGrant, makeGrants, startStorm, whoami, type StormGrant } from '../helpers/refresh-storm.js';

const ROUNDS = 20;
/** Time for the answer to cross loopback, be parsed, sealed and written (docs/invariants.md #8: persisted at once). */
const WINDOW_MS = 10;

describe('SIGKILL during a refresh storm (SQLite)', () => {
  let kp: KeyholeProcess;
  let grants: StormGrant[];
  beforeAll(async () => {
    kp = await startKeyholeProcess({ config: { tokens: { upstreamRefreshSkewSeconds: 3600 } } });
    await kp.start();
    grants = await makeGrants(kp.mcpUrl, 4);
  }, 120_000);
  afterAll(async () => { await kp?.close(); });

  it(`loses no grant outside the unavoidable window over ${ROUNDS} kills`, async () => {
    const outsideWindow: Array<{ round: number; msBeforeKill: number | null }> = [];
    const inWindow: Array<{ round: number; msBeforeKill: number }> = [];
    const original = new Set(grants.map((g) => g.token));
    for (let round = 0; round < ROUNDS; round++) {
      const run = kp.running()!;
      const storm = startStorm(kp.mcpUrl, grants, 3);
      const before = kp.refreshes();
      // The storm is under way (bounded, so that a broken round ends instead of hanging).
      for (let waited = 0; kp.refreshes() - before < 3 && waited < 5_000; waited += 5) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 250))); // a random moment within it
      const invalidBefore = kp.invalidGrants();
      const killedAt = Date.now();
      run.child.kill('SIGKILL');
      expect((await run.done).signal).toBe('SIGKILL');
      await storm.stop();
      await kp.start();
      // The first calls after the restart spend the refresh tokens keyhole stored: a lost rotation shows up here.
      const after = await Promise.all(grants.map((g) => whoami(kp.mcpUrl, g)));
      for (const r of kp.replays().slice(invalidBefore)) {
        const msBeforeKill = r.spentAt === undefined ? null : killedAt - r.spentAt;
        if (msBeforeKill !== null && msBeforeKill <= WINDOW_MS) inWindow.push({ round, msBeforeKill });
        else outsideWindow.push({ round, msBeforeKill });
      }
      // Users whose grant the window cost sign in again, so that every round storms 4 grants.
      for (let i = 0; i < grants.length; i++) {
        if (after[i]!.ok) continue;
        expect(after[i]).toMatchObject({ status: 401 });
        grants[i] = await makeGrant(kp.mcpUrl, grants[i]!.login);
      }
    }
    console.log(JSON.stringify({ rounds: ROUNDS, refreshes: kp.refreshes(), invalidGrants: kp.invalidGrants(), lostInTheUnavoidableWindow: inWindow, lostOutsideIt: outsideWindow }));
    expect(outsideWindow).toEqual([]);
    expect(kp.invalidGrants()).toBe(inWindow.length);
    const results = await Promise.all(grants.map((g) => whoami(kp.mcpUrl, g)));
    expect(results).toEqual(grants.map((g) => ({ ok: true, sub: g.login })));
    // Grants the window never hit are the originals: they worked throughout without re-consent.
    expect(grants.filter((g) => original.has(g.token)).length).toBeGreaterThanOrEqual(grants.length - inWindow.length);
    expect(kp.refreshes()).toBeGreaterThan(ROUNDS * 3);
  }, 180_000);
});
