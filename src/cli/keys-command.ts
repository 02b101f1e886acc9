/** `keyhole keys init|status|rotate|retire`: master key management on the database (keyhole stopped). */
import { loadConfigFile } from '../config/load-config.js';
import { keysInit, keysRetire, keysRotate, keysStatus } from '../vault/commands.js';
import { intOption, parse, requireConfig, UsageError, type Command } from './io.js';

export const keysCommand: Command = {
  name: 'keys',
  summary: 'master key management: init | status | rotate | retire KID (keyhole stopped)',
  help: `Usage:
  keyhole keys init    --config FILE    create a master key in the configured key source (never overwrites)
  keyhole keys status  --config FILE    the keyring, and how many vault entries each key id holds
  keyhole keys rotate  --config FILE [--batch-size 500] [--pause-ms 0]
                                        add a new current key and re-encrypt every entry (resumes if interrupted)
  keyhole keys retire KID --config FILE remove an old key once no entry uses it

Options:
  -c, --config FILE    the keyhole config (keys.source says where the keyring lives)
  --batch-size N       rotate: entries re-encrypted per transaction (default 500)
  --pause-ms N         rotate: pause between batches (default 0)

Works on the database directly: stop keyhole first, start it again afterwards.

Example:
  keyhole keys status --config keyhole.json
  keyhole keys rotate --config keyhole.json && keyhole keys retire k1abc --config keyhole.json
`,
  async run(args, io) {
    const { values, positionals } = parse('keys', args, {
      config: { type: 'string', short: 'c' }, 'batch-size': { type: 'string' }, 'pause-ms': { type: 'string' },
    }, true);
    const [sub, ...more] = positionals;
    if (!['init', 'status', 'rotate', 'retire'].includes(sub ?? '')) throw new UsageError(`unknown keys command ${JSON.stringify(sub ?? '')}: init, status, rotate or retire`, 'keys');
    const config = loadConfigFile(requireConfig(values.config, `keys ${sub}`), io.env);
    switch (sub) {
      case 'init':
        return keysInit(config, io);
      case 'status':
        return keysStatus(config, io);
      case 'rotate': {
        const batchSize = intOption(values['batch-size'], '--batch-size', 'keys');
        const pauseMs = intOption(values['pause-ms'], '--pause-ms', 'keys');
        return keysRotate(config, io, { ...(batchSize !== undefined ? { batchSize } : {}), ...(pauseMs !== undefined ? { pauseMs } : {}) });
      }
      default:
        if (more.length !== 1) throw new UsageError('keys retire needs exactly one key id (see keyhole keys status)', 'keys');
        return keysRetire(config, io, more[0]!);
    }
  },
};
