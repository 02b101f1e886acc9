/** `keyhole vault migrate|status`: where the upstream refresh tokens live (keyhole stopped). */
import { loadConfigFile } from '../config/load-config.js';
import { vaultMigrate, vaultStatus } from '../vault/commands.js';
import { intOption, parse, requireConfig, UsageError, type Command } from './io.js';

export const vaultCommand: Command = {
  name: 'vault',
  summary: 'move upstream refresh tokens between SQLite and the OS keychain: migrate | status',
  help: `Usage:
  keyhole vault migrate --to keychain|database --config FILE [--batch-size 200]
                                        move every upstream refresh token (run with keyhole stopped)
  keyhole vault status --config FILE    where the refresh tokens are

Options:
  -c, --config FILE    the keyhole config
  --to WHERE           migrate: keychain, or database (sealed in the configured database; "sqlite" is an older name)
  --batch-size N       migrate: entries per batch (default 200)

Works on the database directly: stop keyhole first, start it again afterwards.

Example:
  keyhole vault migrate --to keychain --config keyhole.json
`,
  async run(args, io) {
    const { values, positionals } = parse('vault', args, {
      config: { type: 'string', short: 'c' }, to: { type: 'string' }, 'batch-size': { type: 'string' },
    }, true);
    const [sub] = positionals;
    if (sub !== 'migrate' && sub !== 'status') throw new UsageError(`unknown vault command ${JSON.stringify(sub ?? '')}: migrate or status`, 'vault');
    const config = loadConfigFile(requireConfig(values.config, `vault ${sub}`), io.env);
    if (sub === 'status') return vaultStatus(config, io);
    // "database" (sealed in whichever database storage names) and its older name "sqlite" are the same place.
    if (values.to !== 'keychain' && values.to !== 'sqlite' && values.to !== 'database') throw new UsageError('vault migrate needs --to keychain or --to database', 'vault');
    const batchSize = intOption(values['batch-size'], '--batch-size', 'vault');
    return vaultMigrate(config, io, values.to === 'keychain' ? 'keychain' : 'sqlite', batchSize !== undefined ? { batchSize } : {});
  },
};
