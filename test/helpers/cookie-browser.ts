// A minimal non-JS "browser" over global fetch: a cookie jar, manual redirects,
// and form posting. Enough to drive oidc-provider's dev interactions and
// keyhole's consent form over plain HTTP.

interface StoredCookie {
  name: string;
  value: string;
  path: string;
  expires?: number;
}

export interface ParsedForm {
  action: string;
  method: string;
  fields: Record<string, string>;
}

export class CookieBrowser {
  /** host (hostname:port) -> cookie name -> cookie */
  private readonly jar = new Map<string, Map<string, StoredCookie>>();
  /** Every URL requested, in order. */
  readonly history: URL[] = [];

  constructor(private readonly extraHeaders: Record<string, string> = {}) {}

  async get(url: string | URL): Promise<Response> {
    return this.request(new URL(url), { method: 'GET' });
  }

  async post(url: string | URL, form: Record<string, string>): Promise<Response> {
    return this.request(new URL(url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }

  /**
   * GETs `url` and follows 30x redirects manually until `stopWhen(next)` is true
   * (that URL is NOT fetched; the last response is the redirect pointing at it)
   * or a non-redirect response arrives.
   */
  async follow(
    url: string | URL,
    { stopWhen, maxHops = 20 }: { stopWhen: (url: URL) => boolean; maxHops?: number },
  ): Promise<{ finalUrl: URL; response: Response }> {
    const current = new URL(url);
    if (stopWhen(current)) throw new Error(`follow: start URL already matches stopWhen: ${current.href}`);
    const response = await this.get(current);
    return this.continueFrom(current, response, stopWhen, maxHops);
  }

  /** Follows the redirect chain starting at an already received response. */
  async continueFrom(
    from: URL,
    first: Response,
    stopWhen: (url: URL) => boolean,
    maxHops = 20,
  ): Promise<{ finalUrl: URL; response: Response }> {
    let current = from;
    let response = first;
    for (let hop = 0; hop < maxHops; hop++) {
      const location = isRedirect(response.status) ? response.headers.get('location') : null;
      if (!location) return { finalUrl: current, response };
      const next = new URL(location, current);
      await response.body?.cancel();
      if (stopWhen(next)) return { finalUrl: next, response };
      current = next;
      response = await this.get(current);
    }
    throw new Error(`follow: too many redirects (last ${current.href})`);
  }

  /** Cookies that would be sent to `url`, as name -> value. */
  cookiesFor(url: string | URL): Record<string, string> {
    const u = new URL(url);
    const out: Record<string, string> = {};
    const now = Date.now();
    for (const c of this.jar.get(u.host)?.values() ?? []) {
      if (c.expires !== undefined && c.expires <= now) continue;
      if (!pathMatches(u.pathname, c.path)) continue;
      out[c.name] = c.value;
    }
    return out;
  }

  clearCookies(): void {
    this.jar.clear();
  }

  private async request(url: URL, init: RequestInit): Promise<Response> {
    this.history.push(url);
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(this.extraHeaders)) headers.set(k, v);
    if (!headers.has('accept')) headers.set('accept', 'text/html,application/json;q=0.9,*/*;q=0.8');
    const cookie = Object.entries(this.cookiesFor(url))
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.storeCookies(url, response.headers.getSetCookie());
    return response;
  }

  private storeCookies(url: URL, setCookies: string[]): void {
    for (const header of setCookies) {
      const [pair = '', ...attrs] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = defaultPath(url.pathname);
      let expires: number | undefined;
      for (const attr of attrs) {
        const [rawKey = '', ...rest] = attr.split('=');
        const key = rawKey.trim().toLowerCase();
        const v = rest.join('=').trim();
        if (key === 'path' && v.startsWith('/')) path = v;
        else if (key === 'max-age' && /^-?\d+$/.test(v)) expires = Date.now() + Number(v) * 1000;
        else if (key === 'expires' && expires === undefined) {
          const t = Date.parse(v);
          if (!Number.isNaN(t)) expires = t;
        }
      }
      let hostJar = this.jar.get(url.host);
      if (!hostJar) {
        hostJar = new Map();
        this.jar.set(url.host, hostJar);
      }
      if (expires !== undefined && expires <= Date.now()) hostJar.delete(name);
      else hostJar.set(name, { name, value, path, ...(expires !== undefined ? { expires } : {}) });
    }
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function defaultPath(pathname: string): string {
  const i = pathname.lastIndexOf('/');
  return i <= 0 ? '/' : pathname.slice(0, i);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (cookiePath === '/' || requestPath === cookiePath) return true;
  const base = cookiePath.endsWith('/') ? cookiePath : `${cookiePath}/`;
  return requestPath.startsWith(base);
}

function decodeEntities(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function attr(tag: string, name: string): string | undefined {
  const re = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i');
  const m = re.exec(tag);
  if (!m) return undefined;
  return decodeEntities(m[1] ?? m[2] ?? m[3] ?? '');
}

/** Parses every <form> in an HTML page: action (resolved against `base`), method and named inputs' values. */
export function parseForms(html: string, base: string | URL): ParsedForm[] {
  const forms: ParsedForm[] = [];
  const formRe = /<form\b([^>]*)>([\s\S]*?)<\/form>/gi;
  for (let m = formRe.exec(html); m; m = formRe.exec(html)) {
    const open = `<form ${m[1] ?? ''}>`;
    const inner = m[2] ?? '';
    const fields: Record<string, string> = {};
    const inputRe = /<(input|button|textarea|select)\b([^>]*)>/gi;
    for (let i = inputRe.exec(inner); i; i = inputRe.exec(inner)) {
      const tagName = (i[1] ?? '').toLowerCase();
      const tag = ` ${i[2] ?? ''}`;
      const name = attr(tag, 'name');
      if (!name) continue;
      const type = (attr(tag, 'type') ?? '').toLowerCase();
      if (tagName === 'button' || type === 'submit' || type === 'button' || type === 'image') continue;
      if ((type === 'checkbox' || type === 'radio') && !/\schecked\b/i.test(tag)) continue;
      if (!(name in fields) || type !== 'checkbox') fields[name] = attr(tag, 'value') ?? '';
    }
    forms.push({
      action: new URL(attr(open, 'action') ?? '', base).href,
      method: (attr(open, 'method') ?? 'get').toUpperCase(),
      fields,
    });
  }
  return forms;
}

/**
 * Drives an upstream oidc-provider authorization from `startUrl`: follows
 * redirects, fills the dev-interactions login form (any login + password),
 * submits consent, and returns the first redirect target starting with
 * `stopAt` without fetching it.
 */
export async function completeUpstreamLogin(
  browser: CookieBrowser,
  startUrl: string | URL,
  { login, stopAt, password = 'password', maxSteps = 10 }: { login: string; stopAt: string; password?: string; maxSteps?: number },
): Promise<URL> {
  const stopWhen = (u: URL) => u.href.startsWith(stopAt);
  let { finalUrl, response } = await browser.follow(startUrl, { stopWhen });

  for (let step = 0; step < maxSteps; step++) {
    if (stopWhen(finalUrl)) return finalUrl;
    const html = await response.text();
    if (response.status !== 200) {
      throw new Error(`completeUpstreamLogin: HTTP ${response.status} at ${finalUrl.href}: ${html.slice(0, 500)}`);
    }
    const forms = parseForms(html, finalUrl).filter((f) => f.method === 'POST');
    const form = forms.find((f) => 'prompt' in f.fields || 'login' in f.fields) ?? forms[0];
    if (!form) throw new Error(`completeUpstreamLogin: no form at ${finalUrl.href}: ${html.slice(0, 500)}`);
    const fields = { ...form.fields };
    if ('login' in fields || fields.prompt === 'login') {
      fields.login = login;
      fields.password = password;
    }
    const action = new URL(form.action);
    const posted = await browser.post(action, fields);
    ({ finalUrl, response } = await browser.continueFrom(action, posted, stopWhen));
  }
  throw new Error(`completeUpstreamLogin: did not reach ${stopAt} after ${maxSteps} forms`);
}
