/**
 * The loopback redirect URI of a native app (RFC 8252 §7.3): `http://127.0.0.1:<port>/callback`, listening on the
 * IPv4 loopback interface only (§8.3: not `localhost`, which may resolve elsewhere). The port is the one registered
 * before when it is free (so strict servers keep matching), else an ephemeral one: RFC 8252 §7.3 requires
 * authorization servers to accept any port for loopback redirect URIs.
 *
 * Requests are only answered with a result while a sign-in waits; each is judged by authorization-response.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CallbackVerdict } from './authorization-response.js';

export const CALLBACK_PATH = '/callback';

export interface LoopbackCallback {
  /** `http://127.0.0.1:<port>/callback` */
  readonly redirectUrl: string;
  readonly port: number;
  /** Resolves with the first accepted response; rejects on a failing one or after `timeoutMs`. */
  waitForCode(judge: (query: URLSearchParams) => CallbackVerdict, timeoutMs: number): Promise<AcceptedResponse>;
  close(): Promise<void>;
}

export interface AcceptedResponse {
  code: string;
  state: string;
}

interface Waiter {
  judge(query: URLSearchParams): CallbackVerdict;
  resolve(response: AcceptedResponse): void;
  reject(error: Error): void;
}

function page(res: ServerResponse, status: number, title: string, text: string): void {
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer', // the URL carries the authorization code
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
  });
  res.end(`<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1><p>${escape(text)}</p></body></html>`);
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startLoopbackCallback(opts: { preferredPort?: number | undefined; strictPort?: boolean } = {}): Promise<LoopbackCallback> {
  let waiter: Waiter | undefined;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== CALLBACK_PATH) return page(res, 404, 'Not found', 'This is the sign-in redirect of keyhole connect.');
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      return page(res, 405, 'Method not allowed', 'The sign-in redirect is a GET.');
    }
    if (!waiter) return page(res, 400, 'No sign-in in progress', 'keyhole connect is not waiting for a sign-in. Start again from your MCP client.');
    const verdict = waiter.judge(url.searchParams);
    if (verdict.kind === 'ignore') return page(res, 400, 'Sign-in not recognised', `This response does not belong to the sign-in in progress (${verdict.reason}).`);
    const current = waiter;
    waiter = undefined;
    if (verdict.kind === 'fail') {
      page(res, 400, 'Sign-in failed', `${verdict.reason}. You can close this window.`);
      current.reject(new Error(verdict.reason));
      return;
    }
    page(res, 200, 'Signed in', 'keyhole connect received the authorization. You can close this window.');
    current.resolve({ code: verdict.code, state: verdict.state });
  };
  const server = createServer(handle);
  let port: number;
  try {
    port = await listen(server, opts.preferredPort ?? 0);
  } catch (e) {
    if (opts.strictPort || !opts.preferredPort || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    port = await listen(server, 0);
  }
  server.unref(); // never keeps the process alive on its own
  return {
    redirectUrl: `http://127.0.0.1:${port}${CALLBACK_PATH}`,
    port,
    waitForCode(judge, timeoutMs) {
      waiter?.reject(new Error('a newer sign-in replaced this one'));
      return new Promise<AcceptedResponse>((resolve, reject) => {
        const timer = setTimeout(() => {
          if (waiter === entry) waiter = undefined;
          reject(new Error(`the sign-in did not finish within ${Math.round(timeoutMs / 1000)} s`));
        }, timeoutMs);
        const entry: Waiter = {
          judge,
          resolve: (response) => { clearTimeout(timer); resolve(response); },
          reject: (error) => { clearTimeout(timer); reject(error); },
        };
        waiter = entry;
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        waiter?.reject(new Error('keyhole connect is shutting down'));
        waiter = undefined;
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
