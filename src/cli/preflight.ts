/**
 * `keyhole check`'s checks, each a name and an outcome: the config validates; the storage directory exists and is
 * writable; the keyring loads and opens every stored entry; each upstream's discovery document fetches; the OS
 * keychain answers when the config uses it; with `identity`, the organization IdP's OpenID discovery document loads and
 * names the endpoints sign-in needs. A failed check never stops the others that do not depend on it.
 */
import { existsSync } from 'node:fs';
import * as oauth from 'oauth4webapi';
import type { KeyholeConfig } from '../config/schema.js';
import { ConfigError, parseConfig, readConfigJson } from '../config/load-config.js';
import { storagePathProblem } from '../config/storage-path.js';
import { openStore } from '../store/open-store.js';
import { describePostgresUrl, openPostgresPool } from '../store/postgres/pool.js';
import { keySourceFor, loadKeyring } from '../vault/key-sources.js';
import { assertKeyringCovers } from '../vault/key-rotation.js';
import { keychainService, KeytarSecretStore, type SecretStore } from '../vault/secret-store.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  /** What was found (ok) or what is wrong (failed). */
  detail: string;
}

export interface PreflightOptions {
  env: NodeJS.ProcessEnv;
  /** Replaces the OS keychain (tests). */
  keychain?: SecretStore;
  timeoutMs?: number;
}

function reason(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const cause = err?.cause?.code ?? err?.cause?.message;
  return `${err?.message ?? String(e)}${cause ? ` (${cause})` : ''}`;
}

async function discoveryCheck(name: string, s: KeyholeConfig['servers'][string], timeoutMs: number): Promise<CheckResult> {
  const check = `upstream ${name}`;
  const options = { signal: AbortSignal.timeout(timeoutMs), [oauth.allowInsecureRequests]: true };
  try {
    if (s.oauth.discovery === 'mcp') {
      const upstream = new URL(s.upstream);
      const url = new URL(`/.well-known/oauth-protected-resource${upstream.pathname === '/' ? '' : upstream.pathname}`, upstream);
      const res = await fetch(url, { signal: options.signal });
      if (!res.ok) return { name: check, ok: false, detail: `${url.href} answered HTTP ${res.status}` };
      return { name: check, ok: true, detail: `protected resource metadata at ${url.href}` };
    }
    if (!s.oauth.issuer) return { name: check, ok: true, detail: 'explicit endpoints, no discovery document to fetch' };
    const issuer = new URL(s.oauth.issuer);
    let res = await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' });
    let where = 'oauth-authorization-server';
    if (res.status === 404) {
      res = await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oidc' });
      where = 'openid-configuration';
    }
    const as = await oauth.processDiscoveryResponse(issuer, res);
    return { name: check, ok: true, detail: `${where} of ${as.issuer} (token endpoint ${as.token_endpoint ?? 'missing'})` };
  } catch (e) {
    return { name: check, ok: false, detail: `the discovery document of ${s.oauth.issuer ?? s.upstream} did not load: ${reason(e)}` };
  }
}

/** `identity` (issue 13): the IdP's `/.well-known/openid-configuration` loads, for this issuer, with the endpoints sign-in needs. */
async function identityCheck(identity: NonNullable<KeyholeConfig['identity']>, publicUrl: string, timeoutMs: number): Promise<CheckResult> {
  const name = 'identity';
  try {
    const issuer = new URL(identity.issuer);
    const res = await oauth.discoveryRequest(issuer, { signal: AbortSignal.timeout(timeoutMs), algorithm: 'oidc', [oauth.allowInsecureRequests]: true });
    const as = await oauth.processDiscoveryResponse(issuer, res);
    const missing = (['authorization_endpoint', 'token_endpoint'] as const).filter((k) => !as[k]);
    if (missing.length) return { name, ok: false, detail: `the openid-configuration of ${as.issuer} has no ${missing.join(' or ')}` };
    return { name, ok: true, detail: `openid-configuration of ${as.issuer} (register the redirect URI ${publicUrl}/identity/callback there)` };
  } catch (e) {
    return { name, ok: false, detail: `the openid-configuration of ${identity.issuer} did not load: ${reason(e)}` };
  }
}

async function keyringCheck(config: KeyholeConfig, env: NodeJS.ProcessEnv, dbUsable: boolean, keychain?: SecretStore): Promise<CheckResult> {
  const name = 'keyring';
  const source = keySourceFor(config, { env, ...(keychain ? { secrets: keychain } : {}) });
  try {
    const keyring = await loadKeyring(config, { env, ...(keychain ? { secrets: keychain } : {}) });
    if (!dbUsable) return { name, ok: true, detail: `${keyring.keys.size} key(s) from ${source.description}; the stored entries were not checked (see storage)` };
    if (config.storage.sqlite !== undefined && !existsSync(config.storage.sqlite)) return { name, ok: true, detail: `${keyring.keys.size} key(s) from ${source.description}; no database yet` };
    const store = await openStore(config.storage);
    try {
      await assertKeyringCovers(store, keyring, source.description);
    } finally {
      await store.close();
    }
    return { name, ok: true, detail: `${keyring.keys.size} key(s) from ${source.description} open every stored entry` };
  } catch (e) {
    return { name, ok: false, detail: reason(e) };
  }
}

/** storage.sqlite: its directory is writable; storage.postgres: the database answers. Undefined when fine. */
async function storageProblem(config: KeyholeConfig): Promise<string | undefined> {
  if (config.storage.postgres === undefined) return storagePathProblem(config);
  try {
    await (await openPostgresPool(config.storage.postgres)).end();
    return undefined;
  } catch (e) {
    return `storage.postgres: ${reason(e)}`;
  }
}

async function keychainCheck(config: KeyholeConfig, keychain?: SecretStore): Promise<CheckResult | undefined> {
  const uses = [config.storage.vault === 'keychain' ? 'storage.vault' : '', config.keys.source === 'keychain' ? 'keys.source' : ''].filter(Boolean);
  if (uses.length === 0) return undefined;
  try {
    await (keychain ?? new KeytarSecretStore(keychainService.vault(config.instanceName))).probe();
    return { name: 'keychain', ok: true, detail: `the OS keychain answers (${uses.join(', ')} use it)` };
  } catch (e) {
    return { name: 'keychain', ok: false, detail: `${uses.join(' and ')} use the OS keychain, but ${reason(e)}` };
  }
}

export async function preflight(file: string, opts: PreflightOptions): Promise<CheckResult[]> {
  let config: KeyholeConfig;
  try {
    config = parseConfig(readConfigJson(file), opts.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map((p) => ({ name: 'config', ok: false, detail: p }));
  }
  const results: CheckResult[] = [{ name: 'config', ok: true, detail: `${file} is valid (${Object.keys(config.servers).length} server(s))` }];
  const storage = await storageProblem(config);
  results.push(storage ? { name: 'storage', ok: false, detail: storage } : { name: 'storage', ok: true, detail: config.storage.postgres !== undefined ? `${describePostgresUrl(config.storage.postgres)} answers` : `${config.storage.sqlite} is writable` });
  const keychain = await keychainCheck(config, opts.keychain);
  results.push(await keyringCheck(config, opts.env, !storage, opts.keychain));
  if (keychain) results.push(keychain);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  results.push(...(await Promise.all(Object.entries(config.servers).map(([name, s]) => discoveryCheck(name, s, timeoutMs)))));
  if (config.identity) results.push(await identityCheck(config.identity, config.publicUrl, timeoutMs));
  return results;
}
