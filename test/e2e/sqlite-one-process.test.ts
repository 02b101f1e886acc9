/**
 * "SQLite, honestly" (issue 12 §2): one keyhole process per SQLite file. A second `keyhole serve` on the same file
 * meets a clear startup error naming the first process (pid, host, start time) and exits 1; the first keeps serving
 * and writing. Read-only commands (`keyhole check`, `grants list --config`) work beside it; a writing one (`grants
 * revoke --config`) meets the same error. When the first process is killed (SIGKILL: no clean-up at all), the kernel
 * releases the lock and the next start succeeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { startStack, type Stack } from '../helpers/stack.js';
import { ensureBuiltCli, runCli, startCli, writeCliConfig } from '../helpers/keyhole-cli.js';
import { freePort } from '../helpers/free-port.js';

type Serve = ReturnType<typeof startCli>;

describe('one keyhole process per SQLite file', () => {
  let stack: Stack;
  let dbPath: string;
  let configA: string;
  let configB: string;
  let portA: number;
  const running: Serve[] = [];
  const ADMIN = 'admin-token-for-tests-0123456789';
  const env = () => ({ PATH: process.env.PATH ?? '', KEYHOLE_MASTER_KEY: stack.masterKey, KEYHOLE_ADMIN_TOKEN: ADMIN });

  async function serve(config: string): Promise<Serve> {
    const run = startCli(['serve', '--config', config], { env: env() });
    running.push(run);
    await new Promise<void>((resolve, reject) => {
      const check = () => (run.stderr().includes('"msg":"keyhole.listening"') ? resolve() : undefined);
      run.child.stderr!.on('data', check);
      void run.done.then((r) => reject(new Error(`serve ended (code ${r.code}): ${r.stderr}`)));
    });
    return run;
  }

  beforeAll(async () => {
    await ensureBuiltCli();
    stack = await startStack();
    dbPath = join(stack.dir, 'shared.db');
    portA = await freePort();
    const portB = await freePort();
    const at = (port: number) => ({ publicUrl: `http://127.0.0.1:${port}`, listen: { host: '127.0.0.1', port }, storage: { sqlite: dbPath }, admin: { token: ADMIN } });
    configA = writeCliConfig(stack, join(stack.dir, 'a.json'), at(portA));
    configB = writeCliConfig(stack, join(stack.dir, 'b.json'), at(portB));
  }, 180_000);
  afterAll(async () => {
    for (const r of running) r.child.kill('SIGKILL');
    await stack?.close();
  });

  it('refuses a second process with an error naming the first; the first keeps working', async () => {
    const before = Date.now();
    const a = await serve(configA);
    const label = JSON.parse(readFileSync(`${dbPath}.lock.json`, 'utf8')) as { pid: number; host: string; startedAt: string };
    expect(label.pid).toBe(a.child.pid);
    expect(label.host).toBe(hostname());
    expect(Date.parse(label.startedAt)).toBeGreaterThanOrEqual(before - 1_000);

    const b = await runCli(['serve', '--config', configB], { env: env() });
    expect(b.code).toBe(1);
    expect(b.stderr).toBe(
      `keyhole: the SQLite database ${dbPath} is in use by keyhole process ${a.child.pid} on host ${hostname()}, started ${label.startedAt}. ` +
      'One keyhole process per SQLite file: stop that process first, or run several instances on PostgreSQL (storage.postgres). ' +
      'Read-only commands (keyhole check, grants list, events tail) work while it runs.\n',
    );

    // The first still serves, reads and writes.
    const register = await fetch(`http://127.0.0.1:${portA}/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none', client_name: 'after the refusal' }),
    });
    expect(register.status).toBe(201);
    const ready = await fetch(`http://127.0.0.1:${portA}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, { ok: boolean }> }).checks.disk?.ok).toBe(true);
  });

  it('lets read-only commands run beside it; a writing --config command meets the lock', async () => {
    const check = await runCli(['check', '--config', configA], { env: env() });
    expect(check.stdout).toContain(`ok   storage: ${dbPath} is writable`);
    expect(check.stdout).toContain('ok   keyring:');
    expect(check.code).toBe(0);
    const list = await runCli(['grants', 'list', '--config', configA, '--json'], { env: env() });
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([]);
    const revoke = await runCli(['grants', 'revoke', 'g_AAAAAAAAAAAAAAAAAAAAAA', '--config', configA, '--yes'], { env: env() });
    expect(revoke.code).toBe(1);
    expect(revoke.stderr).toContain(`keyhole: the SQLite database ${dbPath} is in use by keyhole process ${running[0]!.child.pid} on host ${hostname()}`);
  });

  it('starts again at once after the holder was SIGKILLed (the kernel released the lock)', async () => {
    const a = running[0]!;
    a.child.kill('SIGKILL');
    await a.done;
    expect(existsSync(`${dbPath}.lock.json`)).toBe(true); // a killed process cleans nothing up: the label is stale
    const b = await serve(configB);
    const label = JSON.parse(readFileSync(`${dbPath}.lock.json`, 'utf8')) as { pid: number };
    expect(label.pid).toBe(b.child.pid);
    await new Promise((r) => setTimeout(r, 300)); // serve installs its signal handlers just after the listening line
    b.child.kill('SIGTERM');
    const ended = await b.done;
    expect({ code: ended.code, signal: ended.signal, stderr: ended.stderr.slice(-500) }).toMatchObject({ code: 0 });
    expect(existsSync(`${dbPath}.lock.json`)).toBe(false); // a clean exit removes its label
  });
});
