/**
 * The `keyhole` command: `serve --config FILE`, `demo`, `keys …`, `vault …`, `connect URL`. Exits non-zero with a readable
 * message (field path and reason) on a bad config, a missing key or an unusable vault, never with a stack trace.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfigFile } from './config/load-config.js';
import { createKeyhole } from './keyhole.js';
import { VaultKeyError } from './store/crypto/vault-cipher.js';
import { VaultSetupError } from './vault/errors.js';
import { loadKeyring } from './vault/key-sources.js';
import { keysInit, keysRetire, keysRotate, keysStatus, vaultMigrate, vaultStatus, type CommandIo } from './vault/commands.js';

const USAGE = `keyhole — OAuth authorization proxy for remote MCP servers

Usage:
  keyhole serve --config keyhole.json   run the proxy (master key from the config's key source; default KEYHOLE_MASTER_KEY)
  keyhole demo [--port 8787]            run a self-contained demo (local upstream, no account needed)
  keyhole keys init    --config FILE    create a master key in the configured key source (never overwrites)
  keyhole keys status  --config FILE    the keyring, and how many vault entries each key id holds
  keyhole keys rotate  --config FILE [--batch-size 500] [--pause-ms 0]
                                        add a new current key and re-encrypt every entry (resumes if interrupted)
  keyhole keys retire KID --config FILE remove an old key once no entry uses it
  keyhole vault migrate --to keychain|sqlite --config FILE [--batch-size 200]
                                        move every upstream refresh token (run with keyhole stopped)
  keyhole vault status --config FILE    where the refresh tokens are
  keyhole connect <mcp-url> [options]   stdio bridge to a remote MCP server with OAuth sign-in, for clients
                                        that only launch local servers (keyhole connect --help)
  keyhole --version | --help

The keys and vault commands work on the database directly: stop keyhole first, start it again afterwards.
`;

function fail(message: string, code = 1): never {
  process.stderr.write(`keyhole: ${message}\n`);
  process.exit(code);
}

function onSignals(stop: () => Promise<void>): void {
  const handler = () => void stop().then(() => process.exit(0), () => process.exit(1));
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } }, strict: true });
  if (!values.config) fail('serve needs --config FILE\n\n' + USAGE, 2);
  const config = loadConfigFile(values.config);
  const keyring = await loadKeyring(config);
  const keyhole = await createKeyhole({ config, keyring });
  const { url } = await keyhole.listen();
  process.stderr.write(`${JSON.stringify({ level: 'info', msg: 'keyhole.listening', url, publicUrl: config.publicUrl, servers: Object.keys(config.servers) })}\n`);
  onSignals(() => keyhole.close());
}

async function demo(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { port: { type: 'string', default: '8787' } }, strict: true });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail('--port must be a port number', 2);
  const { startDemo, demoBanner } = await import('./demo.js');
  const running = await startDemo({ port, asPort: port + 1, mcpPort: port + 2 });
  process.stdout.write(demoBanner(running) + '\n');
  onSignals(() => running.close());
}

function readVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** `keyhole connect`: loaded on demand (the SDK client pieces are not needed by serve). stdout is the MCP stream. */
async function connect(args: string[]): Promise<void> {
  const { parseConnectArgs, ConnectUsageError, CONNECT_USAGE } = await import('./connect/connect-options.js');
  let options;
  try {
    options = parseConnectArgs(args, process.env);
  } catch (e) {
    if (e instanceof ConnectUsageError) fail(`${e.message}\n\n${CONNECT_USAGE}`, 2);
    throw e;
  }
  if (!options) {
    process.stdout.write(CONNECT_USAGE);
    return;
  }
  const { runConnect } = await import('./connect/run-connect.js');
  const code = await runConnect(options, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, version: readVersion() });
  // Open sockets (keep-alive) must not keep a finished bridge alive; stdout and stderr are flushed first.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

const io: CommandIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) fail(`${name} must be a whole number`, 2);
  return n;
}

async function keys(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' }, 'batch-size': { type: 'string' }, 'pause-ms': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [sub, ...more] = positionals;
  if (!values.config) fail(`keys ${sub ?? ''} needs --config FILE\n\n${USAGE}`, 2);
  const config = loadConfigFile(values.config);
  switch (sub) {
    case 'init':
      return keysInit(config, io);
    case 'status':
      return keysStatus(config, io);
    case 'rotate': {
      const batchSize = intOption(values['batch-size'], '--batch-size');
      const pauseMs = intOption(values['pause-ms'], '--pause-ms');
      return keysRotate(config, io, { ...(batchSize !== undefined ? { batchSize } : {}), ...(pauseMs !== undefined ? { pauseMs } : {}) });
    }
    case 'retire':
      if (more.length !== 1) fail('keys retire needs exactly one key id (see keyhole keys status)', 2);
      return keysRetire(config, io, more[0]!);
    default:
      fail(`unknown keys command ${JSON.stringify(sub ?? '')}\n\n${USAGE}`, 2);
  }
}

async function vault(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' }, to: { type: 'string' }, 'batch-size': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [sub] = positionals;
  if (!values.config) fail(`vault ${sub ?? ''} needs --config FILE\n\n${USAGE}`, 2);
  const config = loadConfigFile(values.config);
  switch (sub) {
    case 'migrate': {
      if (values.to !== 'keychain' && values.to !== 'sqlite') fail('vault migrate needs --to keychain or --to sqlite', 2);
      const batchSize = intOption(values['batch-size'], '--batch-size');
      return vaultMigrate(config, io, values.to, batchSize !== undefined ? { batchSize } : {});
    }
    case 'status':
      return vaultStatus(config, io);
    default:
      fail(`unknown vault command ${JSON.stringify(sub ?? '')}\n\n${USAGE}`, 2);
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'keys':
      process.exitCode = await keys(rest);
      return;
    case 'vault':
      process.exitCode = await vault(rest);
      return;
    case 'demo':
      return demo(rest);
    case 'connect':
      return connect(rest);
    case '--version':
    case '-v': {
      process.stdout.write(`${readVersion()}\n`);
      return;
    }
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      fail(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`, 2);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof VaultSetupError || e instanceof VaultKeyError) fail(e.message);
  if ((e as Error)?.name === 'TypeError' && (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) fail(`${(e as Error).message}\n\n${USAGE}`, 2);
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'EADDRINUSE') fail(`the port is already in use (${err.message.replace(/^.*EADDRINUSE: /, '')})`);
  fail(`failed to start: ${err?.message ?? String(e)}`);
});
