/**
 * The active health probe of an upstream MCP server (issue 15, `health`): an HTTP GET of `health.path` on the
 * upstream's origin, healthy on a 2xx within the timeout. No credential is sent, redirects are not followed (a
 * 3xx is unhealthy), and each probe uses its own connection, so a probe never waits behind proxied traffic in the
 * forwarder's pool and a dead upstream is seen as dead. The health checker (../policy/health-checker.ts) also
 * bounds every probe by `timeoutSeconds`.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-15.3 (2xx Successful)
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** The URL probed for a server: `path` on the upstream's origin. */
export function healthUrl(upstream: string, path: string): URL {
  return new URL(path, new URL(upstream).origin);
}

export function httpHealthProbe(url: URL, timeoutMs: number): () => Promise<boolean> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('httpHealthProbe: the URL must be http(s)');
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError('httpHealthProbe: timeoutMs must be positive');
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return function probeUpstreamHealth() {
    return new Promise<boolean>((resolve) => {
      const req = send(url, { method: 'GET', agent: false, timeout: timeoutMs, headers: { accept: '*/*', 'user-agent': 'keyhole-health' } }, (res) => {
        res.resume(); // drain: the answer's status is all a probe needs
        const status = res.statusCode ?? 0;
        resolve(status >= 200 && status < 300);
      });
      req.on('timeout', () => {
        req.destroy();
        resolve(false);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
  };
}
