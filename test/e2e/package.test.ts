/**
 * The published package, as a user gets it: `npm pack`, then `npm install <tarball>` into an empty directory outside
 * the checkout. From there `keyhole demo` runs (its upstream peers come compiled in the package, oidc-provider as an
 * optional dependency) and the SDK client completes the whole flow; `keyhole serve` runs without oidc-provider; the
 * library imports with its types; no TypeScript is needed.
 *
 * better-sqlite3 (and keytar) would compile from source for ~1.5 min here: no prebuilt binary can be downloaded. The
 * test hands prebuild-install the binary this checkout already built, through its documented local-prebuilds
 * option (npm_config_<package>_local_prebuilds), which is what a download of a prebuilt binary would give it. When that
 * binary is missing the install falls back to compiling and the test still passes, only slower.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuiltCli, ROOT, waitForOutput, type CliResult } from '../helpers/keyhole-cli.js';
import { connectThroughKeyhole } from '../helpers/sdk-client.js';
import { freePort } from '../helpers/free-port.js';

const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** A prebuild-install tarball of a native module's already built binary, if the checkout has one. */
function localPrebuild(dir: string, pkg: string, binary: string, abiTag: string): boolean {
  const modDir = join(ROOT, 'node_modules', pkg);
  if (!existsSync(join(modDir, 'build', 'Release', binary))) return false;
  const v = (JSON.parse(readFileSync(join(modDir, 'package.json'), 'utf8')) as { version: string }).version;
  execFileSync('tar', ['czf', join(dir, `${pkg}-v${v}-${abiTag}-${process.platform}-${process.arch}.tar.gz`), '-C', modDir, `build/Release/${binary}`]);
  return true;
}

function start(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

describe('the packed package, installed outside the checkout', () => {
  let work: string;
  let app: string;
  let bin: string;

  beforeAll(async () => {
    await ensureBuiltCli();
    work = mkdtempSync(join(tmpdir(), 'keyhole-package-'));
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, stdio: 'pipe' }); // dist/ was just built
    const tarball = join(work, `mcp-keyhole-${version}.tgz`);
    const prebuilds = join(work, 'prebuilds');
    mkdirSync(prebuilds);
    localPrebuild(prebuilds, 'better-sqlite3', 'better_sqlite3.node', `node-v${process.versions.modules}`);
    localPrebuild(prebuilds, 'keytar', 'keytar.node', 'napi-v3');
    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'keyhole-package-test', private: true }));
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
      cwd: app,
      stdio: 'pipe',
      env: { ...process.env, npm_config_better_sqlite3_local_prebuilds: prebuilds, npm_config_keytar_local_prebuilds: prebuilds },
    });
    bin = join(app, 'node_modules', '.bin', 'keyhole');
  }, 170_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships dist/ with declarations, the schema and the changelog, and needs no TypeScript', () => {
    const pkg = join(app, 'node_modules', 'mcp-keyhole');
    for (const f of ['dist/src/cli.js', 'dist/src/index.d.ts', 'dist/examples/demo/upstream-authorization-server.js', 'keyhole.schema.json', 'CHANGELOG.md']) expect(existsSync(join(pkg, f)), f).toBe(true);
    expect(readdirSync(join(pkg))).not.toContain('src');
    expect(existsSync(join(app, 'node_modules', 'typescript'))).toBe(false);
    const out = execFileSync('npx', ['--no-install', 'keyhole', '--version'], { cwd: app, encoding: 'utf8' });
    expect(out).toBe(`${version}\n`);
  });

  it('imports as a library through its exports', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', "const m = await import('mcp-keyhole'); console.log(typeof m.createKeyhole, typeof m.parseConfig)"], { cwd: app, encoding: 'utf8' });
    expect(out).toBe('function function\n');
  });

  it('runs `keyhole demo` and the SDK client completes the whole flow against it', async () => {
    const [port, authPort, upstreamPort] = [await freePort(), await freePort(), await freePort()];
    const demo = start(bin, ['demo', '--port', String(port), '--auth-port', String(authPort), '--upstream-port', String(upstreamPort)], app);
    try {
      await waitForOutput(demo, (out) => out.includes('Press Ctrl+C'));
      const conn = await connectThroughKeyhole(`http://127.0.0.1:${port}/mcp/demo`, { login: 'from-the-tarball' });
      const result = (await conn.client.callTool({ name: 'whoami', arguments: {} })) as { content: Array<{ text: string }> };
      expect(JSON.parse(result.content[0]!.text).sub).toBe('from-the-tarball');
      await conn.client.close();
    } finally {
      demo.child.kill('SIGINT');
    }
    expect((await demo.done).code).toBe(0);
  });

  it('serves without oidc-provider installed; only the demo needs it, and says so', async () => {
    renameSync(join(app, 'node_modules', 'oidc-provider'), join(app, 'oidc-provider.away'));
    try {
      const port = await freePort();
      const config = join(app, 'keyhole.json');
      writeFileSync(config, JSON.stringify({
        $schema: './node_modules/mcp-keyhole/keyhole.schema.json',
        publicUrl: `http://127.0.0.1:${port}`,
        listen: { host: '127.0.0.1', port },
        storage: { sqlite: './keyhole.db' },
        servers: { crm: { upstream: 'http://127.0.0.1:9/mcp', oauth: { issuer: 'http://127.0.0.1:9', clientId: 'keyhole', clientSecret: '${CRM_SECRET}' } } },
      }));
      const serve = start(bin, ['serve', '--config', config], app, { KEYHOLE_MASTER_KEY: randomBytes(32).toString('base64url'), CRM_SECRET: 'secret' });
      try {
        await new Promise<void>((resolve, reject) => {
          const check = () => (serve.stderr().includes('keyhole.listening') ? resolve() : undefined);
          serve.child.stderr.on('data', check);
          void serve.done.then((r) => reject(new Error(`serve ended: ${r.stderr}`)));
        });
        const res = await fetch(`http://127.0.0.1:${port}/.well-known/oauth-authorization-server`);
        expect(res.status).toBe(200);
      } finally {
        serve.child.kill('SIGTERM');
      }
      expect((await serve.done).code).toBe(0);
      const demo = start(bin, ['demo', '--port', String(await freePort())], app);
      const r = await demo.done;
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('keyhole: keyhole demo needs the optional dependency oidc-provider, which is not installed');
    } finally {
      renameSync(join(app, 'oidc-provider.away'), join(app, 'node_modules', 'oidc-provider'));
    }
  });
});
