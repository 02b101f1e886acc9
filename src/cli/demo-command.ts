/**
 * `keyhole demo`: keyhole plus a local upstream (oidc-provider and an SDK MCP server) on three ports of 127.0.0.1.
 * The upstream peers are loaded by dynamic import (src/demo.ts), so serving never needs oidc-provider.
 */
import { parse, portOption, type Command } from './io.js';
import { stopOnSignals } from './signals.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run a self-contained demo: keyhole + a local upstream, no account needed (npm start)',
  help: `Usage:
  keyhole demo [--port 8787] [--auth-port 8788] [--upstream-port 8789]

Options:
  --port N             keyhole (the MCP endpoint, consent and admin pages); default 8787
  --auth-port N        the demo's upstream authorization server (oidc-provider); default 8788
  --upstream-port N    the demo's upstream MCP server; default 8789

Everything listens on 127.0.0.1. The database and the master key live in a temporary directory that is deleted
on exit (unless KEYHOLE_MASTER_KEY is set, the key is made up for the run).

Example:
  keyhole demo --port 9000 --auth-port 9001 --upstream-port 9002
  npm start -- --port 9000          (from a checkout)
`,
  async run(args, io) {
    const { values } = parse('demo', args, {
      port: { type: 'string' }, 'auth-port': { type: 'string' }, 'upstream-port': { type: 'string' },
    });
    const port = portOption(values.port, '--port', 'demo') ?? 8787;
    const asPort = portOption(values['auth-port'], '--auth-port', 'demo') ?? 8788;
    const mcpPort = portOption(values['upstream-port'], '--upstream-port', 'demo') ?? 8789;
    const { startDemo, demoBanner, quietOidcProviderWarnings } = await import('../demo.js');
    quietOidcProviderWarnings();
    const running = await startDemo({ port, asPort, mcpPort });
    io.out(demoBanner(running));
    stopOnSignals(() => running.close());
    return undefined;
  },
};
