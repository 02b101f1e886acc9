/** `keyhole check` with `identity` (src/cli/preflight.ts): the org IdP's openid-configuration loads, or the check fails naming it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { preflight } from '../../../src/cli/preflight.js';
import { startOrgIdp, type OrgIdp } from '../../helpers/org-idp.js';

describe('keyhole check: identity', () => {
  let idp: OrgIdp;
  let dir: string;
  beforeAll(async () => {
    idp = await startOrgIdp({ publicUrl: 'http://127.0.0.1:9', accounts: {} });
    dir = mkdtempSync(join(tmpdir(), 'keyhole-identity-check-'));
  });
  afterAll(async () => {
    await idp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function configFile(issuer: string): string {
    const file = join(dir, `${randomBytes(4).toString('hex')}.json`);
    writeFileSync(file, JSON.stringify({
      publicUrl: 'http://127.0.0.1:9',
      storage: { sqlite: join(dir, 'k.db') },
      identity: { issuer, clientId: 'keyhole', clientSecret: 'x' },
      servers: { demo: { upstream: 'http://127.0.0.1:9/mcp', oauth: { authorizationEndpoint: 'http://127.0.0.1:9/a', tokenEndpoint: 'http://127.0.0.1:9/t', clientId: 'k' } } },
    }));
    return file;
  }

  it('passes when the openid-configuration loads and names the redirect URI to register', async () => {
    const results = await preflight(configFile(idp.issuer), { env: { KEYHOLE_MASTER_KEY: randomBytes(32).toString('base64url') } });
    expect(results.find((r) => r.name === 'identity')).toEqual({
      name: 'identity', ok: true, detail: `openid-configuration of ${idp.issuer} (register the redirect URI http://127.0.0.1:9/identity/callback there)`,
    });
  });

  it('fails naming the issuer when nothing answers there', async () => {
    const results = await preflight(configFile('http://127.0.0.1:1'), { env: { KEYHOLE_MASTER_KEY: randomBytes(32).toString('base64url') }, timeoutMs: 2_000 });
    expect(results.find((r) => r.name === 'identity')).toMatchObject({ ok: false, detail: expect.stringContaining('the openid-configuration of http://127.0.0.1:1 did not load') });
  });
});
