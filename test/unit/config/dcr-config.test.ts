/** The `dcr` config block: registration limits and DCR client expiry (issue 9 F2, issue 11 §3). */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load-config.js';
import { redirectUriProblem } from '../../../src/oauth/redirect-uri.js';

const minimal = (over: Record<string, unknown> = {}) => ({
  publicUrl: 'http://127.0.0.1:8787',
  servers: { demo: { upstream: 'http://127.0.0.1:9000/mcp', oauth: { issuer: 'http://127.0.0.1:9001', clientId: 'keyhole', clientSecret: 's', scopes: ['openid'] } } },
  ...over,
});

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, {});
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('config dcr', () => {
  it('defaults every key', () => {
    expect(parseConfig(minimal(), {}).dcr).toEqual({
      perAddressPerMinute: 30,
      globalPerHour: 600,
      neverAuthorizedHours: 24,
      unusedDays: 90,
      expiryIntervalSeconds: 900,
      expiryBatchSize: 100,
    });
  });

  it('takes partial overrides', () => {
    expect(parseConfig(minimal({ dcr: { globalPerHour: 50, unusedDays: 30 } }), {}).dcr).toMatchObject({ globalPerHour: 50, unusedDays: 30, perAddressPerMinute: 30 });
  });

  it('rejects out-of-range values and unknown keys, naming the field', () => {
    expect(problems(minimal({ dcr: { globalPerHour: 0 } })).join('\n')).toMatch(/dcr\.globalPerHour/);
    expect(problems(minimal({ dcr: { unusedDays: 1.5 } })).join('\n')).toMatch(/dcr\.unusedDays/);
    expect(problems(minimal({ dcr: { expiryIntervalSeconds: 1 } })).join('\n')).toMatch(/dcr\.expiryIntervalSeconds/);
    expect(problems(minimal({ dcr: { maxClients: 5 } })).join('\n')).toMatch(/dcr/);
  });

  it('refuses static client redirect URIs by the same rules as registration', () => {
    const client = (uri: string) => minimal({ clients: [{ clientId: 'ci', clientName: 'CI', redirectUris: [uri] }] });
    for (const uri of ['ftp://ci.example.com/cb', 'https://a;b.example/cb', 'x:', 'http://127.0.0.1:1/c\tb']) {
      expect(redirectUriProblem(uri), uri).toBeDefined();
      expect(problems(client(uri)).join('\n'), uri).toMatch(/clients\.0\.redirectUris\.0/);
    }
    expect(parseConfig(client('cursor://anysphere.cursor-mcp/oauth/callback'), {}).clients[0]?.redirectUris).toHaveLength(1);
  });
});
