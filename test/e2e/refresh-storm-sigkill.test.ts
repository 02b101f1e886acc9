/**
 * Refresh storm under SIGKILL (issue 12 §3, "SIGKILL at any moment loses no grant … except in the one window no
 * software can close"): 20 rounds, each SIGKILLs `keyhole serve` at a random moment during a refresh storm (4 grants ×
 * 3 concurrent callers, every call refreshing against oidc-provider with rotating refresh tokens, which revokes the
 * whole grant when a spent refresh token comes back), then starts it again on the same database: a SQLite file, and
 * a real PostgreSQL (test/helpers/postgres.ts).
 *
 * Every `invalid_grant` oidc-provider answers is classified by when keyhole's process had received the answer to the
 * refresh that spent the replayed token (test/fixtures/log-refresh-answers.cjs, preloaded into keyhole, writes each
 * refresh answer it received in full synchronously to a file, so the record survives the kill):
 * - never received: the upstream committed a rotation whose answer never reached keyhole (the refresh was in flight
 *   when the process died);
 * - received less than PERSIST_BUDGET_MS[engine] before the kill: the answer was on its way into the store (parse,
 *   seal, one commit: keyhole awaits nothing else in between, docs/invariants.md #8). These two are the window no software closes (docs: README "Running several instances"). Counted and
 *   reported; that user signs in again so that the storm keeps 4 grants;
 * - received longer before the kill: keyhole held the new refresh token and had not persisted it. That grant keyhole
 *   could have kept: the test fails, naming the rounds.
 * Afterwards every grant works (the ones never caught in the window without re-consent).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyholeProcess } from '../helpers/keyhole-process.js';
import { StormKeyhole } from '../helpers/storm-keyhole.js';
import { makeGrant, startStorm, whoami, type StormGrant } from '../helpers/refresh-storm.js';

const ROUNDS = 20;
/**
 * Parse, seal and ONE database commit ("persist in the same tick it is parsed"), on a loaded 2-core machine. SQLite
 * commits in keyhole's process (measured answer→persisted p99 5-13 ms, max 101 ms at load average 6-8). PostgreSQL
 * is a round trip to another process that competes for the same 2 cores (measured p99 42-114 ms, max 290 ms at load average
 * 6-8): the budget covers that round trip, not the upstream exchange, a lock, the event recorder or any
 * other await, each of which makes the test fail (a 500 ms pause before the write fails it on both engines).
 */
const PERSIST_BUDGET_MS = { sqlite: 100, postgres: 200 } as const;

/** The `answer_to_persisted_ms` of each `keyhole.refresh_persisted` line keyhole logged (debug). */
function persistLatencies(stderr: string): number[] {
  return stderr.split('\n').filter((l) => l.includes('"keyhole.refresh_persisted"'))
    .map((l) => (JSON.parse(l) as { answer_to_persisted_ms: number }).answer_to_persisted_ms);
}

function summary(ms: number[]): { n: number; p50: number; p99: number; max: number } | null {
  if (ms.length === 0) return null;
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { n: ms.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

describe.each(['sqlite', 'postgres'] as const)('SIGKILL during a refresh storm (%s)', (engine) => {
  let kp: KeyholeProcess;
  let grants: StormGrant[];
  const setup = new StormKeyhole(engine, { logRefreshAnswers: true, logLevel: 'debug' });
  beforeAll(async () => {
    // debug: keyhole logs `keyhole.refresh_persisted` (answer parsed → committed, ms) for each refresh; reported below.
    ({ kp, grants } = await setup.start());
  }, 120_000);
  afterAll(() => setup.close());

  it(`loses no grant outside the unavoidable window over ${ROUNDS} kills`, async () => {
    // receivedMsBeforeKill: when keyhole had received the answer of the spending refresh (null: never), before the kill.
    const outsideWindow: Array<{ round: number; receivedMsBeforeKill: number }> = [];
    const inWindow: Array<{ round: number; receivedMsBeforeKill: number | null }> = [];
    const original = new Set(grants.map((g) => g.token));
    const persistedMs: number[] = [];
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
      persistedMs.push(...persistLatencies(run.stderr()));
      await storm.stop();
      await kp.start();
      // The first calls after the restart spend the refresh tokens keyhole stored: a lost rotation shows up here.
      const after = await Promise.all(grants.map((g) => whoami(kp.mcpUrl, g)));
      const received = kp.receivedRefreshAnswers();
      for (const r of kp.replays().slice(invalidBefore)) {
        const at = r.fp === undefined ? undefined : received.get(r.fp);
        const receivedMsBeforeKill = at === undefined ? null : killedAt - at;
        if (receivedMsBeforeKill !== null && receivedMsBeforeKill > PERSIST_BUDGET_MS[engine]) outsideWindow.push({ round, receivedMsBeforeKill });
        else inWindow.push({ round, receivedMsBeforeKill });
      }
      // Users whose grant the window cost sign in again, so that every round storms 4 grants.
      await Promise.all(grants.map(async (g, i) => {
        if (after[i]!.ok) return;
        expect(after[i]).toMatchObject({ status: 401 });
        grants[i] = await makeGrant(kp.mcpUrl, g.login);
      }));
    }
    console.log(JSON.stringify({ engine, rounds: ROUNDS, answerToPersistedMs: summary(persistedMs), refreshes: kp.refreshes(), invalidGrants: kp.invalidGrants(), lostInTheUnavoidableWindow: inWindow, lostOutsideIt: outsideWindow }));
    expect(outsideWindow).toEqual([]);
    expect(kp.invalidGrants()).toBe(inWindow.length);
    const results = await Promise.all(grants.map((g) => whoami(kp.mcpUrl, g)));
    expect(results).toEqual(grants.map((g) => ({ ok: true, sub: g.login })));
    // Grants the window never hit are the originals: they worked throughout without re-consent.
    expect(grants.filter((g) => original.has(g.token)).length).toBeGreaterThanOrEqual(grants.length - inWindow.length);
    expect(kp.refreshes()).toBeGreaterThan(ROUNDS * 3);
  }, 180_000);
});
