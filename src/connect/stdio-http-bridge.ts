/**
 * A transparent relay between the MCP stdio transport (the local client) and Streamable HTTP (the remote server),
 * both the SDK's own transports. It does not terminate MCP: every request, response, notification and error goes
 * through unchanged, both ways, server→client requests (sampling, elicitation, roots) included.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports
 *
 * What it adds, each a pitfall seen in mcp-remote:
 * - order: `initialize` and `notifications/initialized` are barriers; nothing overtakes them;
 * - after the initialize result passes by, the negotiated version goes on every HTTP request (MCP-Protocol-Version);
 * - a 401 the SDK could not fix by refreshing starts a browser sign-in (SignIn); the request waits and is resent;
 * - a 404 for a request in a session means the server ended it: a new session is initialized with the client's
 *   own initialize request (ids of the bridge's own requests start with `keyhole-connect-`) and the request resent;
 * - a request that cannot be delivered gets a JSON-RPC error with its id, so the client never hangs.
 */
import { StreamableHTTPError, type StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { errorResponseFor } from './http-error-relay.js';
import type { SignIn } from './sign-in.js';

const OWN_ID_PREFIX = 'keyhole-connect-';
const REINITIALIZE_TIMEOUT_MS = 30_000;
const MAX_ATTEMPTS = 3;

export interface BridgeOptions {
  /** The stdio side (StdioServerTransport). */
  client: Transport;
  /** Makes a new, unstarted transport to the server (a new one replaces a session the server ended). */
  newServerTransport(): StreamableHTTPClientTransport;
  signIn: SignIn;
  log(line: string): void;
}

type Request = JSONRPCRequest;

function isRequest(m: JSONRPCMessage): m is Request {
  return 'method' in m && 'id' in m && m.id !== undefined;
}

function idOf(m: JSONRPCMessage): RequestId | undefined {
  return 'id' in m ? (m.id as RequestId | undefined) : undefined;
}

function describe(m: JSONRPCMessage): string {
  return 'method' in m ? m.method : `response ${String(idOf(m))}`;
}

export class StdioHttpBridge {
  readonly #opts: BridgeOptions;
  #server: StreamableHTTPClientTransport;
  #barrier: Promise<void> = Promise.resolve();
  readonly #inFlight = new Set<Promise<void>>();
  #lastInitialize: Request | undefined;
  /** Ids of the client's initialize requests still waiting for their result. */
  readonly #initializeIds = new Set<RequestId>();
  readonly #own = new Map<RequestId, (m: JSONRPCMessage) => void>();
  #ownSeq = 0;
  #reinitializing: Promise<void> | undefined;
  /** Errors a failed send() also reported to onerror: logged once, by the sender. */
  readonly #sendErrors = new WeakSet<object>();
  #closed = false;

  constructor(opts: BridgeOptions) {
    this.#opts = opts;
    this.#server = this.#wire(opts.newServerTransport());
  }

  /** The transport currently in use (the sign-in redeems codes through it). */
  get server(): StreamableHTTPClientTransport {
    return this.#server;
  }

  async start(): Promise<void> {
    const { client } = this.#opts;
    client.onmessage = (m) => this.#fromClient(m);
    client.onerror = (e) => this.#opts.log(`from the client: ${e.message}`);
    await this.#server.start();
    await client.start();
  }

  /** Lets what is in flight finish (bounded), ends the HTTP session (DELETE), closes both sides. */
  async close(graceMs = 2_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.race([Promise.allSettled([...this.#inFlight]), delay(graceMs)]);
    const server = this.#server;
    await Promise.race([server.terminateSession().catch(() => undefined), delay(graceMs)]);
    await server.close().catch(() => undefined);
    await this.#opts.client.close().catch(() => undefined);
  }

  #wire(transport: StreamableHTTPClientTransport): StreamableHTTPClientTransport {
    // Messages of a replaced transport still go to the client: a stream of the old session may yet answer.
    transport.onmessage = (m) => this.#fromServer(m);
    transport.onerror = (e) => {
      // send() reports its failure here and then throws it: let the sender handle those (next macrotask check).
      setImmediate(() => {
        if (this.#sendErrors.has(e) || transport !== this.#server || this.#closed) return;
        this.#background(transport, e);
      });
    };
    return transport;
  }

  /** An error of the standalone GET stream or its reconnection. */
  #background(transport: StreamableHTTPClientTransport, e: Error): void {
    if (e instanceof UnauthorizedError) {
      // The stream's own auth() started a sign-in (begin() was called); reopen the stream when it is done.
      void this.#opts.signIn.inFlight?.then(
        () => { if (transport === this.#server && !this.#closed) void transport.resumeStream('').catch(() => undefined); },
        () => undefined,
      );
      return;
    }
    this.#opts.log(`from the server: ${e.message}`);
  }

  #fromClient(m: JSONRPCMessage): void {
    if (this.#closed) return;
    if (isRequest(m) && m.method === 'initialize') {
      this.#lastInitialize = m;
      this.#initializeIds.add(m.id);
    }
    const lifecycle = 'method' in m && (m.method === 'initialize' || m.method === 'notifications/initialized');
    const run = this.#barrier.then(() => this.#forward(m, 1));
    this.#inFlight.add(run);
    void run.finally(() => this.#inFlight.delete(run));
    if (lifecycle) this.#barrier = run;
  }

  #fromServer(m: JSONRPCMessage): void {
    const id = idOf(m);
    if (id !== undefined && this.#own.has(id) && !('method' in m)) {
      const settle = this.#own.get(id)!;
      this.#own.delete(id);
      settle(m);
      return;
    }
    if (id !== undefined && !('method' in m) && this.#initializeIds.delete(id) && 'result' in m) {
      const version = (m.result as { protocolVersion?: unknown }).protocolVersion;
      if (typeof version === 'string') this.#server.setProtocolVersion(version);
    }
    this.#opts.client.send(m).catch((e: Error) => this.#opts.log(`could not write to the client: ${e.message}`));
  }

  async #forward(m: JSONRPCMessage, attempt: number): Promise<void> {
    await this.#opts.signIn.inFlight?.catch(() => undefined);
    await this.#reinitializing?.catch(() => undefined);
    const transport = this.#server;
    try {
      await transport.send(m);
      return;
    } catch (e) {
      if (e && typeof e === 'object') this.#sendErrors.add(e);
      if (this.#closed) return this.#fail(m, e);
      if (e instanceof UnauthorizedError && attempt < MAX_ATTEMPTS) {
        const signIn = this.#opts.signIn.inFlight;
        if (signIn) {
          this.#opts.log(`waiting for the sign-in to send ${describe(m)}`);
          try {
            await signIn;
          } catch (failed) {
            return this.#fail(m, failed);
          }
        }
        return this.#forward(m, attempt + 1);
      }
      if (this.#sessionEnded(e, transport) && !('method' in m && m.method === 'initialize') && this.#lastInitialize && attempt < MAX_ATTEMPTS) {
        try {
          await this.#reinitialize(transport);
        } catch (failed) {
          return this.#fail(m, failed);
        }
        return this.#forward(m, attempt + 1);
      }
      return this.#fail(m, e);
    }
  }

  #fail(m: JSONRPCMessage, e: unknown): void {
    this.#opts.log(`could not deliver ${describe(m)}: ${(e as Error)?.message ?? String(e)}`);
    if (!isRequest(m)) return;
    this.#initializeIds.delete(m.id);
    this.#opts.client.send(errorResponseFor(m.id, e)).catch(() => undefined);
  }

  /** The server answered 404 to a request carrying a session id: the session is gone (MCP transports §Session Management). */
  #sessionEnded(e: unknown, transport: StreamableHTTPClientTransport): boolean {
    return e instanceof StreamableHTTPError && e.code === 404 && transport.sessionId !== undefined;
  }

  #reinitialize(stale: StreamableHTTPClientTransport): Promise<void> {
    if (this.#server !== stale) return Promise.resolve(); // already replaced
    this.#reinitializing ??= this.#startNewSession(stale).finally(() => {
      this.#reinitializing = undefined;
    });
    return this.#reinitializing;
  }

  async #startNewSession(stale: StreamableHTTPClientTransport): Promise<void> {
    this.#opts.log('the server ended the session; starting a new one');
    const fresh = this.#wire(this.#opts.newServerTransport());
    await fresh.start();
    this.#server = fresh;
    void stale.close().catch(() => undefined);
    const init = this.#lastInitialize!;
    const id = `${OWN_ID_PREFIX}reinitialize-${++this.#ownSeq}`;
    const answer = await new Promise<JSONRPCMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#own.delete(id);
        reject(new Error('the server did not answer the new initialize request'));
      }, REINITIALIZE_TIMEOUT_MS);
      this.#own.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      fresh.send({ ...init, id }).catch((e: unknown) => {
        clearTimeout(timer);
        this.#own.delete(id);
        reject(e);
      });
    });
    if (!('result' in answer)) throw new Error(`the server refused the new initialize request: ${JSON.stringify((answer as { error?: unknown }).error)}`);
    const version = (answer.result as { protocolVersion?: unknown }).protocolVersion;
    if (typeof version === 'string') fresh.setProtocolVersion(version);
    await fresh.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
