/** Config errors an operator can act on: JSON syntax with line and column, "did you mean", a missing storage directory. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfigFile, parseConfig } from '../../../src/config/load-config.js';
import { closestKey } from '../../../src/config/unknown-keys.js';

const dir = mkdtempSync(join(tmpdir(), 'keyhole-config-errors-'));
const server = { upstream: 'http://127.0.0.1:3/mcp', oauth: { issuer: 'http://127.0.0.1:2', clientId: 'k', clientSecret: 'x' } };

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('config errors', () => {
  it('names the line and column of a JSON syntax error', () => {
    const p = file('trailing-comma.json', '{\n  "publicUrl": "http://127.0.0.1:1",\n  "servers": {},\n}\n');
    expect(problems(() => loadConfigFile(p))).toEqual([`${p}: is not valid JSON: line 4, column 1: Expected double-quoted property name`]);
  });

  it('names the line and column where V8 gives no position', () => {
    const p = file('bare-word.json', '{\n  "publicUrl": tru\n}\n');
    expect(problems(() => loadConfigFile(p))).toEqual([`${p}: is not valid JSON: line 2, column 19: Unexpected token '\\n'`]);
  });

  it('suggests the closest known key for an unknown one, at any depth', () => {
    const raw = { publicUrl: 'http://127.0.0.1:1', listen: { prot: 1 }, servers: { demo: { ...server, oauth: { issuer: 'http://127.0.0.1:2', clientId: 'k', clientSecrt: 'x' } } } };
    expect(problems(() => parseConfig(raw, {}))).toEqual([
      'listen: unknown key "prot": did you mean "port"?',
      'servers.demo.oauth: unknown key "clientSecrt": did you mean "clientSecret"?',
    ]);
  });

  it('lists the known keys when nothing is close', () => {
    const raw = { publicUrl: 'http://127.0.0.1:1', storage: { zzzzzz: 1 }, servers: { demo: server } };
    expect(problems(() => parseConfig(raw, {}))).toEqual(['storage: unknown key "zzzzzz" (known keys: sqlite, postgres, vault, minFreeMegabytes)']);
  });

  it('treats a case difference as the closest match', () => {
    expect(closestKey('publicURL', ['publicUrl', 'listen'])).toBe('publicUrl');
    expect(closestKey('totally-different', ['publicUrl', 'listen'])).toBeUndefined();
  });

  it('ignores "$schema" (for editors)', () => {
    expect(parseConfig({ $schema: './keyhole.schema.json', publicUrl: 'http://127.0.0.1:1', servers: { demo: server } }, {}).publicUrl).toBe('http://127.0.0.1:1');
  });

  it('names storage.sqlite and the directory when the directory does not exist', () => {
    const missing = join(dir, 'var', 'lib', 'keyhole');
    const p = file('storage.json', JSON.stringify({ publicUrl: 'http://127.0.0.1:1', storage: { sqlite: join(missing, 'keyhole.db') }, servers: { demo: server } }));
    expect(problems(() => loadConfigFile(p, {}))).toEqual([`storage.sqlite: the directory ${missing} does not exist (create it, or change storage.sqlite)`]);
  });

  it('refuses a trustProxy entry that is not an address or CIDR', () => {
    const raw = { publicUrl: 'http://127.0.0.1:1', trustProxy: ['10.0.0.0/8', '10.0.0.0/33', 'proxy.local'], servers: { demo: server } };
    expect(problems(() => parseConfig(raw, {}))).toEqual([
      'trustProxy.1: must be an IP address or CIDR, e.g. "10.0.0.0/8"',
      'trustProxy.2: must be an IP address or CIDR, e.g. "10.0.0.0/8"',
    ]);
  });
});
