/**
 * One browser sign-in at a time. The SDK's auth() calls `begin(url)` (through the provider's
 * redirectToAuthorization) the moment it has an authorization URL: the loopback listener is armed right then, so a
 * fast browser can never arrive before anyone waits; the URL goes to stderr and, unless disabled, to the platform's
 * browser opener. The accepted response's code is redeemed with `transport.finishAuth(code)` (the SDK's token
 * request, with the verifier of that response's own state).
 */
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { judgeAuthorizationResponse } from './authorization-response.js';
import type { ConnectOAuthProvider } from './connect-oauth-provider.js';
import type { LoopbackCallback } from './loopback-callback.js';
import { openBrowser } from './open-browser.js';

export interface SignInOptions {
  callback: LoopbackCallback;
  timeoutMs: number;
  openBrowser: boolean;
  log(line: string): void;
}

export class SignIn {
  #provider: ConnectOAuthProvider | undefined;
  #transport: (() => StreamableHTTPClientTransport) | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(private readonly opts: SignInOptions) {}

  /** Wires the provider and the transport that redeems codes (they are built after this object). */
  attach(provider: ConnectOAuthProvider, transport: () => StreamableHTTPClientTransport): void {
    this.#provider = provider;
    this.#transport = transport;
  }

  /** The sign-in in progress, if any. */
  get inFlight(): Promise<void> | undefined {
    return this.#inFlight;
  }

  begin(url: URL): void {
    if (this.#inFlight) return;
    this.opts.log(`authorization needed: open this URL in a browser to sign in\n${url.href}`);
    const run = this.#run();
    this.#inFlight = run;
    run.then(
      () => { if (this.#inFlight === run) this.#inFlight = undefined; },
      (e: unknown) => {
        if (this.#inFlight === run) this.#inFlight = undefined;
        this.opts.log(`sign-in failed: ${(e as Error).message}`);
      },
    );
    if (this.opts.openBrowser) openBrowser(url.href, this.opts.log);
  }

  async #run(): Promise<void> {
    const provider = this.#provider;
    const transport = this.#transport;
    if (!provider || !transport) throw new Error('sign-in is not wired');
    try {
      const accepted = await this.opts.callback.waitForCode(
        (query) => judgeAuthorizationResponse(query, { isPendingState: (s) => provider.isPendingState(s), issuer: provider.expectedIssuer() }),
        this.opts.timeoutMs,
      );
      provider.redeem(accepted.state);
      await transport().finishAuth(accepted.code);
      this.opts.log('signed in');
    } finally {
      provider.endSignIn();
    }
  }
}
