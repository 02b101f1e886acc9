/** F7: which redirect URIs can be registered, and the consent page's CSP form-action source built from them. */
import { describe, expect, it } from 'vitest';
import { redirectUriProblem } from '../../../src/oauth/redirect-uri.js';
import { formActionSource } from '../../../src/authorization-server/client-redirect.js';
import { CONTROL_REDIRECTS, CSP_INJECTION_REDIRECTS, FORBIDDEN_REDIRECTS } from './garbage-redirects.js';


describe('redirect URI rules', () => {
  it('accepts https, loopback http on any port, reverse-domain private-use schemes and known MCP client schemes', () => {
    for (const uri of [
      'https://claude.ai/api/mcp/auth_callback',
      'https://vscode.dev/redirect',
      'https://[2001:db8::1]/cb',
      'http://127.0.0.1/',
      'http://127.0.0.1:33418/',
      'http://localhost:3334/oauth/callback',
      'http://[::1]:8080/cb',
      'com.example.app:/oauth2redirect',
      'com.example.app://oauth2redirect/provider',
      'cursor://anysphere.cursor-retrieval/oauth/user-mcp/callback',
      'vscode://vscode.github-authentication/did-authenticate',
      'vscode-insiders://vscode.github-authentication/did-authenticate',
    ]) {
      expect(redirectUriProblem(uri), uri).toBeUndefined();
    }
  });

  it('rejects dangerous and handler schemes (ftp, ws, wss, intent, ms-*, view-source, x:, …)', () => {
    for (const uri of FORBIDDEN_REDIRECTS) expect(redirectUriProblem(uri), uri).toMatch(/scheme/);
  });

  it('rejects control characters, whitespace and backslashes, which the URL parser would silently drop', () => {
    for (const uri of CONTROL_REDIRECTS) expect(redirectUriProblem(uri), JSON.stringify(uri)).toMatch(/control character/);
  });

  it('rejects hosts with CSP or header metacharacters (";", ",", quotes)', () => {
    for (const uri of CSP_INJECTION_REDIRECTS) expect(redirectUriProblem(uri), uri).toBeDefined();
  });

  it('rejects user info and fragments', () => {
    expect(redirectUriProblem('https://user:pw@app.example.com/cb')).toMatch(/user name/);
    expect(redirectUriProblem('cursor://anysphere.cursor-retrieval/cb#x')).toMatch(/fragment/);
  });

  it('rejects loopback http and private-use schemes for application_type web', () => {
    expect(redirectUriProblem('https://app.example.com/cb', 'web')).toBeUndefined();
    for (const uri of ['http://127.0.0.1:3334/cb', 'cursor://anysphere.cursor-retrieval/cb', 'com.example.app:/cb']) {
      expect(redirectUriProblem(uri, 'web'), uri).toMatch(/application_type is web/);
      expect(redirectUriProblem(uri, 'native'), uri).toBeUndefined();
    }
  });
});

describe('formActionSource', () => {
  it('builds the source from the parsed origin: scheme://host[:port], or scheme: for private-use schemes', () => {
    expect(formActionSource('http://127.0.0.1:33418/callback?x=1')).toBe('http://127.0.0.1:33418');
    expect(formActionSource('https://claude.ai/api/mcp/auth_callback')).toBe('https://claude.ai');
    expect(formActionSource('https://[::1]:8443/cb')).toBe('https://[::1]:8443');
    expect(formActionSource('cursor://anysphere.cursor-retrieval/cb')).toBe('cursor:');
    expect(formActionSource('com.example.app:/cb')).toBe('com.example.app:');
  });

  it("never copies a ';', ',' or space into the CSP, even for a URI stored before the registration rules", () => {
    for (const uri of [...CSP_INJECTION_REDIRECTS, 'not a url', 'https://a;b.example:99/cb']) {
      const source = formActionSource(uri);
      expect(source, uri).toMatch(/^(?:'self'|[a-z][a-z0-9+.-]*:(?:\/\/[a-z0-9.[\]:-]+)?)$/);
    }
    expect(formActionSource('https://a;b.example/cb')).toBe("'self'");
  });
});
