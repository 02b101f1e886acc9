/**
 * Every server of the benchmark (upstream, pass-through proxies, keyhole) runs in its own child process, so that
 * each has its own event loop and its RSS is its own. Protocol over the IPC channel:
 *   child → parent  { type: 'ready', port }            once listening
 *   parent → child  { type: 'memory' } → { type: 'memory', rss, heapUsed, external, arrayBuffers }
 *   parent → child  { type: 'stop' }                    the child closes and exits 0 (so --cpu-prof is written)
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ChildMemory {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface ServerChild {
  name: string;
  proc: ChildProcess;
  pid: number;
  port: number;
  url: string;
  /** RSS in bytes from /proc/<pid>/status (VmRSS), or from the child's process.memoryUsage() elsewhere. */
  rss(): Promise<number>;
  memory(): Promise<ChildMemory>;
  /** CPU time (user + system) the child has used so far, in µs, from /proc/<pid>/stat; NaN where unavailable. */
  cpuUs(): number;
  stop(): Promise<void>;
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a process in µs (Linux /proc); NaN elsewhere. */
export function processCpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / ticksPerSecond();
  } catch {
    return Number.NaN;
  }
}

export interface StartChildOptions {
  name: string;
  /** Module path relative to the compiled bench/ directory, e.g. './upstream-fast.js'. */
  module: string;
  args?: string[];
  env?: Record<string, string>;
  execArgv?: string[];
  /** stderr goes to this file (keyhole's JSON log lines); stdout is discarded. */
  logFile?: string;
  timeoutMs?: number;
}

const benchDir = new URL('../', import.meta.url);

export async function startChild(o: StartChildOptions): Promise<ServerChild> {
  const modulePath = fileURLToPath(new URL(o.module, benchDir));
  const errFd = o.logFile ? openSync(o.logFile, 'a') : 'inherit';
  const proc = fork(modulePath, o.args ?? [], {
    env: { ...process.env, ...o.env },
    execArgv: o.execArgv ?? [],
    stdio: ['ignore', 'ignore', errFd, 'ipc'],
    serialization: 'json',
  });
  if (typeof errFd === 'number') closeSync(errFd);
  const timeoutMs = o.timeoutMs ?? 120_000;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${o.name}: not ready after ${timeoutMs} ms`)), timeoutMs);
    proc.on('message', function onMsg(m: { type?: string; port?: number }) {
      if (m?.type === 'ready' && typeof m.port === 'number') {
        clearTimeout(timer);
        proc.off('message', onMsg);
        resolve(m.port);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      let tail = '';
      try {
        if (o.logFile) tail = readFileSync(o.logFile, 'utf8').split('\n').slice(-15).join('\n');
      } catch {
        /* no log */
      }
      reject(new Error(`${o.name}: exited with code ${code} before it was ready${tail ? `; its stderr ends with:\n${tail}` : ''}`));
    });
  });
  proc.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGKILL' && signal !== 'SIGTERM') process.stderr.write(`[bench] ${o.name} exited with code ${code} signal ${signal}\n`);
  });

  const memory = async (): Promise<ChildMemory> => {
    const reply = new Promise<ChildMemory>((resolve) => {
      proc.on('message', function onMsg(m: { type?: string } & ChildMemory) {
        if (m?.type === 'memory') {
          proc.off('message', onMsg);
          resolve({ rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers });
        }
      });
    });
    proc.send({ type: 'memory' });
    return reply;
  };

  return {
    name: o.name,
    proc,
    pid: proc.pid!,
    port,
    url: `http://127.0.0.1:${port}`,
    memory,
    cpuUs: () => processCpuUs(proc.pid!),
    async rss() {
      try {
        const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
        const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
        if (m) return Number(m[1]) * 1024;
      } catch {
        /* not Linux: ask the child */
      }
      return (await memory()).rss;
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.send({ type: 'stop' });
      const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Child side: announce readiness, answer memory requests, run `close` then exit on stop. */
export function serveChildProtocol(port: number, close: () => Promise<void> | void): void {
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'memory') {
      const u = process.memoryUsage();
      process.send?.({ type: 'memory', rss: u.rss, heapTotal: u.heapTotal, heapUsed: u.heapUsed, external: u.external, arrayBuffers: u.arrayBuffers });
    } else if (m?.type === 'stop') {
      void Promise.resolve()
        .then(close)
        .catch(() => undefined)
        .finally(() => process.exit(0));
    }
  });
  // The parent died: do not linger.
  process.on('disconnect', () => process.exit(0));
  process.send?.({ type: 'ready', port });
}

/** Reads a numeric flag `--name value` from argv. */
export function argValue(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** True when this module is the process entry point (a child started by startChild, or run by hand). */
export function isChildEntry(metaUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(metaUrl) === process.argv[1];
}
