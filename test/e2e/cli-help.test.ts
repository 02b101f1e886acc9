/** `keyhole --help` and `keyhole <command> --help`: exit 0 with usage, options and an example, for every command. */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuiltCli, ROOT, runCli } from '../helpers/keyhole-cli.js';

const COMMAND_LINES = [
  ['serve'], ['demo'], ['check'], ['config'], ['config', 'schema'], ['grants'], ['grants', 'list'], ['grants', 'revoke'],
  ['events'], ['events', 'tail'], ['keys'], ['keys', 'rotate'], ['vault'], ['vault', 'migrate'], ['storage'], ['storage', 'copy'], ['connect'],
];

describe('keyhole --help', () => {
  beforeAll(async () => ensureBuiltCli(), 180_000);

  it('lists every command with a summary and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const name of ['serve', 'demo', 'check', 'config', 'grants', 'events', 'keys', 'vault', 'storage', 'connect']) expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    expect(r.stderr).toBe('');
  });

  for (const words of COMMAND_LINES) {
    it(`keyhole ${words.join(' ')} --help prints usage, options and an example`, async () => {
      const r = await runCli([...words, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`keyhole ${words[0]} `);
      expect(r.stdout).toMatch(/^Usage:$/m);
      expect(r.stdout).toMatch(/^Options:$/m);
      expect(r.stdout).toMatch(/^Examples?:\n  .*keyhole /m);
    });
  }

  it('refuses an unknown command with exit 2 and the command list', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('keyhole: unknown command "frobnicate"');
    expect(r.stderr).toContain('Commands:');
  });

  it('refuses an unknown option with exit 2 and points at the command help', async () => {
    const r = await runCli(['check', '--confg', 'x.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--confg'");
    expect(r.stderr).toContain('(see: keyhole check --help)');
  });

  it('keyhole config schema prints the committed keyhole.schema.json', async () => {
    const r = await runCli(['config', 'schema']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(ROOT, 'keyhole.schema.json'), 'utf8'));
  });
});
