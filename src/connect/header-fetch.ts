/**
 * The fetch the transport uses: adds the `--header` values to requests for the MCP server's own origin only, never
 * to the authorization server or a metadata URL on another origin (a header may carry a gateway key).
 */
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

export function headerFetch(serverUrl: URL, extra: Record<string, string>, base: FetchLike = fetch): FetchLike {
  const names = Object.keys(extra);
  if (names.length === 0) return base;
  return (url, init) => {
    const target = new URL(String(url));
    if (target.origin !== serverUrl.origin) return base(url, init);
    const headers = new Headers(init?.headers);
    for (const name of names) headers.set(name, extra[name]!);
    return base(url, { ...init, headers });
  };
}
