/**
 * `keyhole connect <mcp-url>`: a stdio bridge to a remote MCP server with OAuth sign-in (src/connect/). The bridge
 * itself (SDK client pieces) is loaded only when it runs; stdout carries nothing but MCP messages.
 */
import { readFileSync } from 'node:fs';
import { CONNECT_USAGE, ConnectUsageError, parseConnectArgs } from '../connect/connect-options.js';
import { UsageError, type Command } from './io.js';

function readVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export const connectCommand: Command = {
  name: 'connect',
  summary: 'stdio bridge to a remote MCP server with OAuth sign-in, for clients that only launch local servers',
  help: CONNECT_USAGE,
  async run(args, io) {
    let options;
    try {
      options = parseConnectArgs(args, io.env);
    } catch (e) {
      if (e instanceof ConnectUsageError) throw new UsageError(e.message, 'connect');
      throw e;
    }
    if (!options) {
      io.out(CONNECT_USAGE.replace(/\n$/, ''));
      return 0;
    }
    const { runConnect } = await import('../connect/run-connect.js');
    const code = await runConnect(options, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: io.env, version: readVersion() });
    // Open sockets (keep-alive) must not keep a finished bridge alive; stdout and stderr are flushed first.
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
    return undefined;
  },
};
