/**
 * Runs the real `keyhole` command (bin/keyhole.js → dist/) in a child process, as an operator would.
 * dist/ is rebuilt first when any source file is newer than it (under a lock, so parallel test files build once).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Stack } from './stack.js';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(ROOT, 'bin', 'keyhole.js');
const CLI_JS = join(ROOT, 'dist', 'src', 'cli.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (/\.tsx?$/.test(entry.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function isStale(): boolean {
  if (!existsSync(CLI_JS)) return true;
  const sources = Math.max(newestMtime(join(ROOT, 'src')), newestMtime(join(ROOT, 'views')));
  return sources > statSync(CLI_JS).mtimeMs;
}

/** Makes sure dist/ reflects src/ (npm run build), so the CLI under test is the code under test. */
export async function ensureBuiltCli(): Promise<void> {
  if (!isStale()) return;
  const lock = join(ROOT, 'dist', '.test-build-lock');
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (waited > 120_000) throw new Error(`another test process holds ${lock} for 2 minutes; remove it`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (isStale()) execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'pipe' });
  } catch (e) {
    const out = (e as { stdout?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`npm run build failed, so the CLI cannot be tested:\n${out.slice(0, 2000)}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** Extra node options before the script (e.g. ['--require', file]). */
  nodeArgs?: string[];
  timeoutMs?: number;
}

/** Starts `keyhole <args>`; the caller may kill it. */
export function startCli(args: string[], opts: CliOptions = {}): { child: ChildProcess; done: Promise<CliResult>; stdout(): string; stderr(): string } {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, ...args], { cwd: ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const done = new Promise<CliResult>((resolveDone) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveDone({ code, signal, stdout, stderr });
    });
  });
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}

/** Resolves once `predicate(stdout)` holds (checked on every chunk); rejects if the process ends first. */
export function waitForOutput(run: ReturnType<typeof startCli>, predicate: (stdout: string) => boolean): Promise<void> {
  return new Promise((resolveWait, reject) => {
    const check = () => {
      if (predicate(run.stdout())) {
        run.child.stdout!.off('data', check);
        resolveWait();
      }
    };
    run.child.stdout!.on('data', check);
    void run.done.then((r) => reject(new Error(`the command ended before the expected output (code ${r.code}):\n${r.stdout}\n${r.stderr}`)));
    check();
  });
}

/** A config file for the CLI pointing at the stack's database and upstream, with `over` merged at the top level. */
export function writeCliConfig(stack: Stack, file: string, over: Record<string, unknown> = {}): string {
  const c = stack.config;
  const raw = {
    publicUrl: c.publicUrl,
    listen: c.listen,
    storage: c.storage,
    instanceName: c.instanceName,
    keys: c.keys,
    servers: {
      demo: {
        upstream: stack.mcp.url,
        oauth: { issuer: stack.as.issuer, clientId: stack.upstreamClient.clientId, clientSecret: stack.upstreamClient.clientSecret, scopes: ['openid', 'offline_access', 'mcp:tools'], resource: stack.mcp.url },
      },
    },
    ...over,
  };
  writeFileSync(file, JSON.stringify(raw, null, 2));
  return file;
}
