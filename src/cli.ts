/**
 * The `keyhole` command: `serve --config FILE`, `demo`. Exits non-zero with a readable message (field path
 * and reason) on a bad config or a missing key, never with a stack trace.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfigFile } from './config/load-config.js';
import { createKeyhole, MissingMasterKeyError } from './keyhole.js';
import { VaultKeyError } from './store/crypto/vault-cipher.js';

const USAGE = `keyhole — OAuth authorization proxy for remote MCP servers

Usage:
  keyhole serve --config keyhole.json   run the proxy (needs KEYHOLE_MASTER_KEY)
  keyhole demo [--port 8787]            run a self-contained demo (local upstream, no account needed)
  keyhole --version | --help
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
  const keyhole = createKeyhole({ config });
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

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'demo':
      return demo(rest);
    case '--version':
    case '-v': {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      process.stdout.write(`${pkg.version}\n`);
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
  if (e instanceof ConfigError || e instanceof MissingMasterKeyError || e instanceof VaultKeyError) fail(e.message);
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'EADDRINUSE') fail(`the port is already in use (${err.message.replace(/^.*EADDRINUSE: /, '')})`);
  fail(`failed to start: ${err?.message ?? String(e)}`);
});
