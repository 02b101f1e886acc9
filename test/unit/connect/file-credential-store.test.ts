import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileCredentialStore, connectConfigDir, credentialFileName } from '../../../src/connect/file-credential-store.js';

const URL_A = 'https://kh.example.com/mcp/a';
const creds = { client: { client_id: 'c_1' }, tokens: { access_token: 'at', token_type: 'Bearer', refresh_token: 'rt' } };

describe('connectConfigDir', () => {
  it('uses an absolute XDG_CONFIG_HOME, else ~/.config', () => {
    expect(connectConfigDir({ XDG_CONFIG_HOME: '/x/cfg' }, '/home/u')).toBe('/x/cfg/keyhole/connect');
    expect(connectConfigDir({ XDG_CONFIG_HOME: 'relative' }, '/home/u')).toBe('/home/u/.config/keyhole/connect');
    expect(connectConfigDir({}, '/home/u')).toBe('/home/u/.config/keyhole/connect');
  });
});

describe('FileCredentialStore', () => {
  let root: string;
  let dir: string;
  let umask: number;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kc-store-'));
    dir = join(root, 'keyhole', 'connect');
    umask = process.umask(0); // the widest umask: the modes must come from the code, not the umask
  });
  afterEach(() => {
    process.umask(umask);
    rmSync(root, { recursive: true, force: true });
  });

  it('writes a 0600 file in a 0700 directory, named by a hash of the URL, and reads it back', async () => {
    const store = new FileCredentialStore(dir);
    await store.save(URL_A, creds);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir)).toEqual([credentialFileName(URL_A)]);
    expect(credentialFileName(URL_A)).toMatch(/^[0-9a-f]{32}\.json$/);
    expect(statSync(store.pathFor(URL_A)).mode & 0o777).toBe(0o600);
    expect(await store.load(URL_A)).toEqual(creds);
    expect(JSON.parse(readFileSync(store.pathFor(URL_A), 'utf8'))).toMatchObject({ v: 1, serverUrl: URL_A });
  });

  it('tightens a directory and a file someone opened up', async () => {
    const store = new FileCredentialStore(dir);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755);
    await store.save(URL_A, creds);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    chmodSync(store.pathFor(URL_A), 0o644);
    await store.load(URL_A);
    expect(statSync(store.pathFor(URL_A)).mode & 0o777).toBe(0o600);
  });

  it('reads nothing for a missing file, a corrupt file or a record of another URL', async () => {
    const store = new FileCredentialStore(dir);
    expect(await store.load(URL_A)).toEqual({});
    mkdirSync(dir, { recursive: true });
    writeFileSync(store.pathFor(URL_A), '{not json');
    expect(await store.load(URL_A)).toEqual({});
    writeFileSync(store.pathFor(URL_A), JSON.stringify({ v: 1, serverUrl: 'https://other.example.com/mcp', ...creds }));
    expect(await store.load(URL_A)).toEqual({});
  });

  it('replaces records atomically (no temp file left) and removes them', async () => {
    const store = new FileCredentialStore(dir);
    await store.save(URL_A, creds);
    await store.save(URL_A, { client: creds.client });
    expect(readdirSync(dir)).toEqual([credentialFileName(URL_A)]);
    expect(await store.load(URL_A)).toEqual({ client: creds.client });
    await store.remove(URL_A);
    expect(readdirSync(dir)).toEqual([]);
  });
});
