/** `keyhole check --config FILE`: preflight before `serve`; one line per check, exit 1 naming every failure. */
import { preflight } from './preflight.js';
import { intOption, parse, requireConfig, type Command } from './io.js';

export const checkCommand: Command = {
  name: 'check',
  summary: 'preflight a config: validates, storage, keyring, upstream discovery, keychain',
  help: `Usage:
  keyhole check --config FILE [--timeout-ms 10000]

Checks, one line each ("ok" or "FAIL"):
  config     the file parses and validates (every problem named by its field path)
  storage    the directory of storage.sqlite exists and is writable, or the storage.postgres database answers
  keyring    the master keyring loads from its source and opens every stored vault entry
  keychain   the OS keychain answers (only when storage.vault or keys.source is "keychain")
  upstream   each server's discovery document fetches (or its protected resource metadata, discovery "mcp")
  identity   with "identity": the organization IdP's openid-configuration loads (authorization and token endpoints)

Options:
  -c, --config FILE    the keyhole config
  --timeout-ms N       per upstream fetch (default 10000)

Exits 0 when every check passes, 1 otherwise (the last line names the failed checks).

Example:
  keyhole check --config /etc/keyhole/keyhole.json
`,
  async run(args, io) {
    const { values } = parse('check', args, { config: { type: 'string', short: 'c' }, 'timeout-ms': { type: 'string' } });
    const file = requireConfig(values.config, 'check');
    const timeoutMs = intOption(values['timeout-ms'], '--timeout-ms', 'check');
    const results = await preflight(file, { env: io.env, ...(timeoutMs ? { timeoutMs } : {}) });
    for (const r of results) io.out(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail.split('\n')[0]}`);
    const failed = results.filter((r) => !r.ok);
    if (failed.length === 0) {
      io.out(`all ${results.length} checks passed`);
      return 0;
    }
    io.out(`${failed.length} of ${results.length} checks failed: ${[...new Set(failed.map((r) => r.name))].join(', ')}`);
    return 1;
  },
};
