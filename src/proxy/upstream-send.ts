/**
 * Sends one request to the upstream MCP server over a keep-alive `node:http(s)` Agent per origin (on Node 20 the
 * global `fetch` costs about 4x as much per call: bench/README.md) and settles on the response
 * headers, a timeout, an unreachable upstream, or the client leaving first.
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
  type RequestOptions,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export type Outcome =
  | { kind: 'response'; req: ClientRequest; res: IncomingMessage }
  | { kind: 'timeout' }
  | { kind: 'unreachable' }
  | { kind: 'client-gone' };

/** Drop an upstream response we will not relay, letting a small body free the keep-alive socket. */
export function discard(o: Outcome): void {
  if (o.kind !== 'response') return;
  const len = Number(o.res.headers['content-length']);
  if (Number.isFinite(len) && len <= 65_536) o.res.resume();
  else o.req.destroy();
}

export function clientGone(outgoing: ServerResponse): boolean {
  return outgoing.destroyed || outgoing.writableEnded || outgoing.headersSent;
}

interface UpstreamAddress {
  https: boolean;
  agent: HttpAgent;
  hostname: string;
  port: string | undefined;
  path: string;
}

export interface UpstreamSender {
  /** `headers` is a flat raw array; `mayRetryReusedSocket` allows one resend when a pooled socket was stale. */
  send(url: URL, method: string, headers: string[], body: Buffer | null, timeoutMs: number, outgoing: ServerResponse, mayRetryReusedSocket: boolean): Promise<Outcome>;
  /** Destroy the agents (and with them every open upstream socket). */
  close(): void;
}

export function createUpstreamSender(): UpstreamSender {
  const agents = new Map<string, HttpAgent>();

  function agentFor(url: URL): HttpAgent {
    let agent = agents.get(url.origin);
    if (!agent) {
      const agentOpts = {
        keepAlive: true,
        // No cap on sockets in use: each open SSE stream holds one for its whole life, so a cap of N would make
        // stream N+1 wait in the agent's queue until the upstream timeout (504). Only the idle pool is bounded.
        maxSockets: Infinity,
        maxFreeSockets: 256,
        scheduling: 'lifo' as const,
        // Idle keep-alive sockets are dropped after 4 s, before the usual 5 s server keepAliveTimeout. Sockets
        // in use are unaffected (no 'timeout' listener on the request), so long SSE streams stay open.
        timeout: 4_000,
      };
      agent = url.protocol === 'https:' ? new HttpsAgent(agentOpts) : new HttpAgent(agentOpts);
      agents.set(url.origin, agent);
    }
    return agent;
  }

  /**
   * What a request to `url` needs from it, read once per URL object (a server's route holds one for its life;
   * a config change builds a new route, so a new URL object and a new entry): the URL getters and the agent
   * lookup by origin otherwise run on every request. Weak: a dropped route's entry goes with it.
   */
  const addresses = new WeakMap<URL, UpstreamAddress>();
  function addressOf(url: URL): UpstreamAddress {
    let a = addresses.get(url);
    if (!a) {
      a = {
        https: url.protocol === 'https:',
        agent: agentFor(url),
        hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
        port: url.port || undefined,
        path: url.pathname + url.search,
      };
      addresses.set(url, a);
    }
    return a;
  }

  function send(
    url: URL,
    method: string,
    headers: string[],
    body: Buffer | null,
    timeoutMs: number,
    outgoing: ServerResponse,
    mayRetryReusedSocket: boolean,
  ): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const a = addressOf(url);
      const options: RequestOptions = {
        agent: a.agent,
        hostname: a.hostname,
        port: a.port,
        path: a.path,
        method,
        headers: headers as unknown as RequestOptions['headers'], // Node ≥ 18.? accepts a raw [name, value, …] array
        setHost: false,
      };
      const req = a.https ? httpsRequest(options) : httpRequest(options);
      let settled = false;
      const finish = (o: Outcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outgoing.off('close', onClientClose);
        resolve(o);
      };
      const timer = setTimeout(() => {
        finish({ kind: 'timeout' });
        req.destroy();
      }, timeoutMs);
      // Client disconnect before the upstream answered: abort the upstream request.
      const onClientClose = (): void => {
        finish({ kind: 'client-gone' });
        req.destroy();
      };
      outgoing.once('close', onClientClose);
      req.on('response', (res) => {
        if (settled) {
          res.destroy();
          return;
        }
        finish({ kind: 'response', req, res });
      });
      // Stays attached for the life of the request: socket errors after the response are handled by the relay.
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        // A pooled keep-alive socket the upstream closed while idle: nothing was processed, resend once on a
        // fresh socket (the pattern the Node.js docs give for `request.reusedSocket`).
        if (mayRetryReusedSocket && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          settled = true;
          clearTimeout(timer);
          outgoing.off('close', onClientClose);
          if (clientGone(outgoing)) resolve({ kind: 'client-gone' });
          else resolve(send(url, method, headers, body, timeoutMs, outgoing, false));
          return;
        }
        finish({ kind: 'unreachable' });
      });
      if (body) req.end(body);
      else req.end();
    });
  }

  return {
    send,
    close() {
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    },
  };
}
