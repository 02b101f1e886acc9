/** `keyhole storage copy --from FILE --to URL`: move an installation from SQLite to PostgreSQL (keyhole stopped). */
import { copySqliteToPostgres } from '../store/copy/copy-sqlite-to-postgres.js';
import { intOption, parse, UsageError, type Command } from './io.js';

export const storageCommand: Command = {
  name: 'storage',
  summary: 'move an installation from SQLite to PostgreSQL: copy',
  help: `Usage:
  keyhole storage copy --from FILE --to URL [--batch-size 500]

Options:
  --from FILE          the SQLite database (storage.sqlite) to copy from; it is only read
  --to URL             the PostgreSQL database (postgres://user:password@host:port/db); \${ENV} names are read
                       from the environment, e.g. --to '\${DATABASE_URL}'
  --batch-size N       rows per insert (default 500)

Stop keyhole first. The target is migrated to this keyhole's schema version (refused when the versions then
differ), every table is copied parents first, rows already there are skipped: run it again after an
interruption and it finishes the job. At the end the rows of every table are counted on both sides and printed;
exit 1 when a count differs. Vault ciphertexts move as they are: start keyhole with "storage": {"postgres": …}
and the same master key.

Example:
  keyhole storage copy --from /var/lib/keyhole/keyhole.db --to '\${DATABASE_URL}'
`,
  async run(args, io) {
    const { values, positionals } = parse('storage', args, { from: { type: 'string' }, to: { type: 'string' }, 'batch-size': { type: 'string' } }, true);
    const [sub] = positionals;
    if (sub !== 'copy') throw new UsageError(`unknown storage command ${JSON.stringify(sub ?? '')}: copy`, 'storage');
    if (!values.from) throw new UsageError('storage copy needs --from FILE (the SQLite database)', 'storage');
    if (!values.to) throw new UsageError('storage copy needs --to URL (the PostgreSQL database)', 'storage');
    const to = values.to.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = io.env[name];
      if (v === undefined) throw new UsageError(`--to names \${${name}}, which is not set`, 'storage');
      return v;
    });
    const batchSize = intOption(values['batch-size'], '--batch-size', 'storage');
    if (batchSize === 0) throw new UsageError('--batch-size must be at least 1', 'storage');
    // Test hook (test/e2e/storage-copy.test.ts): a copy slow enough to be killed halfway.
    const delay = Number(io.env.KEYHOLE_TEST_COPY_DELAY_MS ?? 0);
    const result = await copySqliteToPostgres(values.from, to, {
      ...(batchSize !== undefined ? { batchSize } : {}),
      ...(Number.isFinite(delay) && delay > 0 ? { delayAfterBatchMs: delay } : {}),
      progress: (line) => io.err(line),
    });
    const width = Math.max(5, ...result.tables.map((t) => t.table.length));
    io.out(`${'table'.padEnd(width)}  ${'sqlite'.padStart(8)}  ${'postgres'.padStart(8)}`);
    for (const t of result.tables) {
      io.out(`${t.table.padEnd(width)}  ${String(t.source).padStart(8)}  ${String(t.target).padStart(8)}${t.source === t.target ? '' : '  DIFFERS'}`);
    }
    if (!result.verified) {
      io.err('keyhole: row counts differ (see DIFFERS): was keyhole still running on the SQLite file, or the target not empty?');
      return 1;
    }
    io.out(`copied: schema version ${result.schemaVersion}, ${result.tables.length} tables, row counts verified`);
    return 0;
  },
};
