/** `keyhole serve --config FILE`: run the proxy. SIGHUP reloads the TLS certificate and key (listen.tls). */
import { loadConfigFile } from '../config/load-config.js';
import { createKeyhole } from '../keyhole.js';
import { loadKeyring } from '../vault/key-sources.js';
import { parse, requireConfig, type Command } from './io.js';
import { stopOnSignals } from './signals.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the proxy',
  help: `Usage:
  keyhole serve --config FILE

Options:
  -c, --config FILE    the keyhole config (JSON; \${ENV_VAR} placeholders are substituted first)

The master key comes from the config's key source (default: KEYHOLE_MASTER_KEY). With "listen": {"tls": …}
keyhole serves HTTPS itself; send SIGHUP to reload the certificate after renewing it.

SIGTERM (or SIGINT) drains: no new connections, /readyz answers 503, in-flight calls finish within
shutdown.graceSeconds (default 25), refreshes are persisted, then keyhole exits 0. A second signal stops at once.

Example:
  KEYHOLE_MASTER_KEY=… KEYHOLE_ADMIN_TOKEN=… keyhole serve --config keyhole.json
`,
  async run(args, io) {
    const { values } = parse('serve', args, { config: { type: 'string', short: 'c' } });
    const config = loadConfigFile(requireConfig(values.config, 'serve'), io.env);
    const keyring = await loadKeyring(config, { env: io.env });
    const keyhole = await createKeyhole({ config, keyring });
    const { url } = await keyhole.listen();
    io.err(JSON.stringify({ level: 'info', msg: 'keyhole.listening', url, publicUrl: config.publicUrl, servers: Object.keys(config.servers) }));
    if (config.listen.tls) {
      process.on('SIGHUP', () => {
        try {
          keyhole.reloadTls();
          io.err(JSON.stringify({ level: 'info', msg: 'keyhole.tls_reloaded' }));
        } catch (e) {
          io.err(JSON.stringify({ level: 'error', msg: 'keyhole.tls_reload_failed', error: (e as Error).message }));
        }
      });
    }
    // Graceful drain (src/keyhole.ts drain, src/http/drain.ts): stop accepting, /readyz 503, in-flight calls finish
    // within shutdown.graceSeconds, refreshes are persisted, queues flushed, store closed; then exit 0.
    stopOnSignals(async (signal) => {
      io.err(JSON.stringify({ level: 'info', msg: 'keyhole.draining', signal, graceSeconds: config.shutdown.graceSeconds }));
      const steps = await keyhole.drain();
      const failed = steps.filter((s) => s.outcome === 'failed').map((s) => s.name);
      io.err(JSON.stringify({ level: failed.length ? 'error' : 'info', msg: 'keyhole.stopped', ...(failed.length ? { failed } : {}) }));
      if (failed.length) throw new Error(`drain steps failed: ${failed.join(', ')}`);
    }, { onSecondSignal: (signal) => io.err(JSON.stringify({ level: 'warn', msg: 'keyhole.stopped_now', signal })) });
    return undefined;
  },
};
