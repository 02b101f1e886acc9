import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig, substituteEnv } from '../../../src/config/load-config.js';

function minimal(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    publicUrl: 'http://127.0.0.1:8787',
    servers: {
      demo: {
        upstream: 'http://127.0.0.1:9000/mcp',
        oauth: { issuer: 'http://127.0.0.1:9001', clientId: 'keyhole', clientSecret: '${UPSTREAM_CLIENT_SECRET}', scopes: ['openid'] },
      },
    },
    ...over,
  };
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('load-config', () => {
  it('substitutes ${ENV} and applies defaults', () => {
    const config = parseConfig(minimal(), { UPSTREAM_CLIENT_SECRET: 's3cret' });
    expect(config.servers.demo!.oauth.clientSecret).toBe('s3cret');
    expect(config.tokens.refreshGraceSeconds).toBe(30);
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 8787 });
    expect(config.servers.demo!.defaultPolicy).toBe('deny');
  });

  it('rejects a missing environment variable, naming the field path and the variable', () => {
    const p = problems(() => parseConfig(minimal({ admin: { token: '${KEYHOLE_ADMIN_TOKEN}' } }), {}));
    expect(p).toContain('servers.demo.oauth.clientSecret: environment variable UPSTREAM_CLIENT_SECRET is not set');
    expect(p).toContain('admin.token: environment variable KEYHOLE_ADMIN_TOKEN is not set');
  });

  it('treats an empty environment variable as missing', () => {
    expect(problems(() => parseConfig(minimal(), { UPSTREAM_CLIENT_SECRET: '' }))).toEqual(['servers.demo.oauth.clientSecret: environment variable UPSTREAM_CLIENT_SECRET is not set']);
  });

  it('names array indexes in the path', () => {
    const p = problems(() => parseConfig(minimal({ allowedOrigins: ['https://ok.example', '${ORIGIN}'] }), { UPSTREAM_CLIENT_SECRET: 'x' }));
    expect(p).toEqual(['allowedOrigins.1: environment variable ORIGIN is not set']);
  });

  it('escapes $${X} to a literal ${X}', () => {
    expect(substituteEnv('pa$${X}ss', { X: 'no' })).toBe('pa${X}ss');
    expect(substituteEnv('$${X}-${X}', { X: 'yes' })).toBe('${X}-yes');
    const config = parseConfig(minimal({ servers: { demo: { ...(minimal().servers as { demo: object }).demo, displayName: 'Cost $${DOLLARS}' } } }), { UPSTREAM_CLIENT_SECRET: 'x' });
    expect(config.servers.demo!.displayName).toBe('Cost ${DOLLARS}');
  });

  it('leaves other dollar signs and non-strings alone', () => {
    expect(substituteEnv({ a: 'a$b', b: '$', c: 5, d: true, e: null, f: ['${Y}'] }, { Y: 'y' })).toEqual({ a: 'a$b', b: '$', c: 5, d: true, e: null, f: ['y'] });
  });

  it('rejects an invalid field, naming its path and what is wrong', () => {
    const p = problems(() => parseConfig(minimal({ publicUrl: 'http://127.0.0.1:8787/' }), { UPSTREAM_CLIENT_SECRET: 'x' }));
    expect(p).toEqual(['publicUrl: must not end with a slash']);
    const q = problems(() => parseConfig(minimal({ tokens: { accessTokenTtlSeconds: 5 } }), { UPSTREAM_CLIENT_SECRET: 'x' }));
    expect(q).toHaveLength(1);
    expect(q[0]).toMatch(/^tokens\.accessTokenTtlSeconds: /);
  });

  it('names a nested invalid field', () => {
    const raw = minimal();
    (raw.servers as { demo: { upstream: string } }).demo.upstream = 'ftp://x';
    const p = problems(() => parseConfig(raw, { UPSTREAM_CLIENT_SECRET: 'x' }));
    expect(p).toEqual(['servers.demo.upstream: must be an http(s) URL']);
  });

  it('rejects an invalid server name and unknown keys with their paths', () => {
    const raw = minimal({ servers: { Bad_Name: (minimal().servers as { demo: object }).demo }, extra: 1 });
    const p = problems(() => parseConfig(raw, { UPSTREAM_CLIENT_SECRET: 'x' }));
    expect(p.some((x) => x.startsWith('servers.Bad_Name: '))).toBe(true);
    expect(p.some((x) => x.startsWith('(root): ') && x.includes('extra'))).toBe(true);
  });

  it('rejects upstream oauth without issuer or explicit endpoints', () => {
    const raw = minimal();
    (raw.servers as { demo: { oauth: Record<string, unknown> } }).demo.oauth = { clientId: 'x' };
    const p = problems(() => parseConfig(raw, {}));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^servers\.demo\.oauth: needs either "issuer" \(discovery\) or both "authorizationEndpoint" and "tokenEndpoint"/);
  });

  it('reports missing environment variables before validation', () => {
    const p = problems(() => parseConfig(minimal({ publicUrl: 'not a url' }), {}));
    expect(p).toEqual(['servers.demo.oauth.clientSecret: environment variable UPSTREAM_CLIENT_SECRET is not set']);
  });

  describe('loadConfigFile', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'keyhole-config-'));
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('loads a file', () => {
      const file = join(dir, 'keyhole.json');
      writeFileSync(file, JSON.stringify(minimal()));
      expect(loadConfigFile(file, { UPSTREAM_CLIENT_SECRET: 'x' }).publicUrl).toBe('http://127.0.0.1:8787');
    });

    it('names the file when it is missing or not JSON', () => {
      const missing = join(dir, 'missing.json');
      expect(problems(() => loadConfigFile(missing, {}))).toEqual([`${missing}: cannot be read (ENOENT)`]);
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, '{ "publicUrl": ');
      const p = problems(() => loadConfigFile(bad, {}));
      expect(p[0]).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is not valid JSON`));
    });
  });
});
