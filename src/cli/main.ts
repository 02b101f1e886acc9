/**
 * `keyhole <command> …`: looks the command up in COMMANDS and runs it. `--help` on any command prints its usage,
 * options and an example (exit 0); a mistake in the command line exits 2 with the reason; a bad config, a missing
 * key or an unusable vault exits 1 naming the field path and the reason, never with a stack trace.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/load-config.js';
import { VaultKeyError } from '../store/crypto/vault-cipher.js';
import { VaultSetupError } from '../vault/errors.js';
import { COMMANDS } from './commands.js';
import { processIo, UsageError, wantsHelp, type CliIo } from './io.js';

export function topLevelHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    'keyhole — OAuth authorization proxy for remote MCP servers',
    '',
    'Usage: keyhole <command> [options]',
    '',
    'Commands:',
    ...Object.values(COMMANDS).map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  -h, --help       this help; `keyhole <command> --help` for a command\'s options and an example',
    '  -v, --version    the version',
    '',
    'Examples:',
    '  keyhole check --config keyhole.json && keyhole serve --config keyhole.json',
    '  keyhole connect <mcp-url>     as a local stdio server in an MCP client\'s config (signs in through the browser)',
    '',
  ].join('\n');
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs one command line; returns the exit code, or undefined for a long-running command (serve, demo). */
export async function runCli(argv: string[], io: CliIo): Promise<number | undefined> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    const command = topic ? COMMANDS[topic] : undefined;
    io.out(command ? command.help : topLevelHelp());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(version());
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.err(`keyhole: unknown command ${JSON.stringify(name)}\n\n${topLevelHelp()}`);
    return 2;
  }
  if (wantsHelp(rest)) {
    io.out(command.help);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    return report(e, io);
  }
}

/** The exit code and message for an error a command threw. */
export function report(e: unknown, io: CliIo): number {
  if (e instanceof UsageError) {
    io.err(`keyhole: ${e.message}\n(see: keyhole ${e.command ?? ''} --help)`.replace('keyhole  --help', 'keyhole --help'));
    return 2;
  }
  if (e instanceof ConfigError || e instanceof VaultSetupError || e instanceof VaultKeyError) {
    io.err(`keyhole: ${e.message}`);
    return 1;
  }
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'EADDRINUSE') {
    io.err(`keyhole: the port is already in use (${String(err.message).replace(/^.*EADDRINUSE: /, '')})`);
    return 1;
  }
  io.err(`keyhole: ${err?.message ?? String(e)}`);
  return 1;
}

export function main(argv: string[]): void {
  const io = processIo();
  runCli(argv, io).then(
    (code) => {
      if (code !== undefined) process.exitCode = code;
    },
    (e: unknown) => {
      process.exitCode = report(e, io);
    },
  );
}
