/**
 * A refresh storm through keyhole: several grants (each its own user, client and upstream MCP session) and several
 * concurrent callers per grant calling `whoami` in a loop. With `tokens.upstreamRefreshSkewSeconds` longer than the
 * upstream token's lifetime every call needs a fresh upstream token, so keyhole refreshes each grant constantly
 * (single-flight per grant) against oidc-provider's rotating refresh tokens.
 */
import { authorizeClient, openSession, rawPost, toolCall } from './raw-mcp.js';

export interface StormGrant {
  login: string;
  token: string;
  session: string;
}

/** A grant for `login` through the real flow (DCR, consent, upstream login), with an MCP session. */
export async function makeGrant(mcpUrl: string, login: string): Promise<StormGrant> {
  const { token } = await authorizeClient(mcpUrl, login);
  return { login, token, session: await openSession(mcpUrl, token) };
}

/** Grants for user0 … user(n-1). */
export async function makeGrants(mcpUrl: string, n: number): Promise<StormGrant[]> {
  const grants: StormGrant[] = [];
  for (let i = 0; i < n; i++) grants.push(await makeGrant(mcpUrl, `user${i}`));
  return grants;
}

/** One `whoami` call for a grant: the upstream subject it ran as, or the HTTP status / error name when it failed. */
export async function whoami(mcpUrl: string, g: StormGrant, id = 1): Promise<{ ok: true; sub: string } | { ok: false; status: number | string; text?: string }> {
  try {
    const r = await rawPost(mcpUrl, g.token, toolCall(id, 'whoami'), g.session);
    const msg = r.messages.find((m) => (m as { id?: unknown }).id === id) as { result?: { content?: Array<{ text: string }> } } | undefined;
    const text = msg?.result?.content?.[0]?.text;
    if (r.status === 200 && text) return { ok: true, sub: (JSON.parse(text) as { sub: string }).sub };
    return { ok: false, status: r.status, text: r.text.slice(0, 300) };
  } catch (e) {
    return { ok: false, status: (e as Error).name };
  }
}

export interface Storm {
  /** Calls answered with the right subject so far. */
  ok(): number;
  /** Stops the callers and resolves once each one's current call is over. */
  stop(): Promise<void>;
}

/** Starts `callersPerGrant` callers per grant, each calling `whoami` in a loop until `stop()`. Failures are expected (keyhole gets killed). */
export function startStorm(mcpUrl: string, grants: StormGrant[], callersPerGrant: number): Storm {
  let running = true;
  let ok = 0;
  let id = 100;
  const loops = grants.flatMap((g) => Array.from({ length: callersPerGrant }, async () => {
    while (running) {
      const r = await whoami(mcpUrl, g, ++id);
      if (r.ok && r.sub === g.login) ok++;
      else if (running) await new Promise((res) => setTimeout(res, 20)); // refused while keyhole is down
    }
  }));
  return {
    ok: () => ok,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
