/**
 * Issue 9, F9: a client that sends the headers and part of a body, then drops the connection, was logged as an
 * error-level `keyhole.unhandled`. It is the client's doing: a debug line (`keyhole.client_aborted`) when debug
 * is on, nothing otherwise, and the server goes on serving. Real sockets: app.request() cannot abort a body.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { serve, type ServerType } from '@hono/node-server';
import { parseConfig } from '../../../src/config/load-config.js';
import { createKeyhole, type Keyhole } from '../../../src/keyhole.js';
import type { LogLevel } from '../../../src/http/logger.js';
import { keyringFromMasterKey } from '../../../src/store/crypto/vault-cipher.js';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { randomToken, sha256Hex } from '../../../src/store/crypto/hash.js';
import { rawConfig, resourceOf } from '../authorization-server/harness.js';
import { makeAccess, makeClient, makeGrant } from '../store/store-contract.js';

const ADMIN_TOKEN = 'admin-token-for-client-abort-tests-0123';

interface Running {
  keyhole: Keyhole;
  logs: string[];
  port: number;
  /** A valid access token for /mcp/a. */
  access: string;
  close(): Promise<void>;
}

async function start(logLevel?: LogLevel): Promise<Running> {
  const logs: string[] = [];
  const config = parseConfig({ ...rawConfig(), admin: { token: ADMIN_TOKEN } }, {});
  const keyhole = await createKeyhole({
    config,
    store: openSqliteStore(':memory:'),
    keyring: keyringFromMasterKey(randomBytes(32).toString('base64url')),
    log: (l) => logs.push(l),
    ...(logLevel ? { logLevel } : {}),
  });
  const client = makeClient();
  await keyhole.store.clients.create(client);
  const grant = makeGrant({ clientId: client.clientId, server: 'a', scopes: ['mcp'], createdAt: Math.floor(Date.now() / 1000) });
  await keyhole.store.grants.create(grant);
  const access = randomToken('kh_at_');
  await keyhole.store.tokens.createAccess(makeAccess(grant, 'f_abort', { hash: sha256Hex(access), resource: resourceOf('a', config.publicUrl), scopes: ['mcp'], expiresAt: Math.floor(Date.now() / 1000) + 900 }));
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: keyhole.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    keyhole,
    logs,
    port,
    access,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as ServerType & { closeAllConnections(): void }).closeAllConnections();
      });
      await keyhole.close();
    },
  };
}

/** Sends the headers and part of a body (Content-Length promises more), then destroys the connection. */
function abortMidBody(port: number, path: string, type: string, headers: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: ${type}\r\nContent-Length: 4096\r\n${extra}\r\ngrant_type=refresh_token&tok`);
      // Let the server start reading the body, then vanish; give it time to settle the request afterwards.
      setTimeout(() => {
        socket.destroy();
        setTimeout(resolve, 250);
      }, 150);
    });
    socket.on('error', reject);
  });
}

const FORM = 'application/x-www-form-urlencoded';
const cases = (r: Running): Array<[string, string, Record<string, string>?]> => [
  ['/token', FORM],
  ['/revoke', FORM],
  ['/register', 'application/json'],
  ['/admin/login', FORM],
  ['/mcp/a', 'application/json', { authorization: `Bearer ${r.access}` }],
];

describe('a client that aborts its request body', () => {
  let r: Running | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  it('is a debug line per request when debug is on, never an error line; the server keeps serving', async () => {
    r = await start('debug');
    for (const [path, type, headers] of cases(r)) await abortMidBody(r.port, path, type, headers);
    const lines = r.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(lines.filter((l) => l.msg === 'keyhole.client_aborted')).toEqual(
      cases(r).map(([path]) => ({ level: 'debug', msg: 'keyhole.client_aborted', method: 'POST', path, error: 'Error' })),
    );
    const res = await fetch(`http://127.0.0.1:${r.port}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    const api = await fetch(`http://127.0.0.1:${r.port}/admin/api/grants`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(api.status).toBe(200);
  });

  it('logs nothing at the default level (debug off)', async () => {
    r = await start();
    for (const [path, type, headers] of cases(r)) await abortMidBody(r.port, path, type, headers);
    // Lifecycle events and the audit record of each request are not log noise; nothing else is written.
    expect(r.logs.filter((l) => !l.includes('"keyhole.event"') && !l.includes('"keyhole.audit"'))).toEqual([]);
    expect((await fetch(`http://127.0.0.1:${r.port}/.well-known/oauth-authorization-server`)).status).toBe(200);
  });

  it('still logs a real failure after the body arrived as error-level keyhole.unhandled: name, message and stack, tokens redacted', async () => {
    r = await start('debug');
    r.keyhole.app.post('/__boom', async (c) => {
      await c.req.text();
      throw new RangeError('secret detail kh_at_should_not_appear');
    });
    // Routes added after the app was built still go through its onError.
    const res = await fetch(`http://127.0.0.1:${r.port}/__boom`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'server_error', error_description: 'internal error' });
    const line = r.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'keyhole.unhandled')!;
    expect({ ...line, stack: undefined }).toEqual({ level: 'error', msg: 'keyhole.unhandled', error: 'RangeError', message: 'secret detail [REDACTED:keyhole_token]', stack: undefined });
    expect(String(line.stack).split('\n')[0]).toBe('RangeError: secret detail [REDACTED:keyhole_token]');
    expect(String(line.stack)).toContain('client-abort.test.ts');
    expect(r.logs.join('\n')).not.toContain('kh_at_should_not_appear');
  });
});
