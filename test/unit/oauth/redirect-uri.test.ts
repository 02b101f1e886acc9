import { describe, expect, it } from 'vitest';
import { isLoopbackHttp, matchRedirectUri, redirectHost, redirectUriProblem } from '../../../src/oauth/redirect-uri.js';

describe('redirect-uri', () => {
  describe('redirectUriProblem (registration)', () => {
    it('accepts https, loopback http and private-use schemes', () => {
      for (const uri of [
        'https://claude.ai/api/mcp/auth_callback',
        'https://vscode.dev/redirect',
        'http://127.0.0.1/',
        'http://127.0.0.1:33418/',
        'http://localhost:3334/oauth/callback',
        'http://[::1]:8080/cb',
        'cursor://anysphere.cursor-retrieval/oauth/user-mcp/callback',
        'com.example.app:/oauth2redirect',
        'https://app.example/cb?tenant=1',
      ]) {
        expect(redirectUriProblem(uri), uri).toBeUndefined();
      }
    });

    it('rejects plain http to a non-loopback host', () => {
      for (const uri of ['http://evil.example/cb', 'http://127.0.0.1.nip.io/cb', 'http://localhost.evil.example/cb', 'http://10.0.0.1/cb', 'http://[::2]/cb']) {
        expect(redirectUriProblem(uri), uri).toMatch(/https/);
      }
    });

    it('rejects dangerous schemes', () => {
      for (const uri of ['javascript:alert(1)', 'JavaScript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', 'vbscript:x', 'blob:https://a/x', 'about:blank']) {
        expect(redirectUriProblem(uri), uri).toMatch(/forbidden scheme/);
      }
    });

    it('rejects fragments, relative and overlong URIs', () => {
      expect(redirectUriProblem('https://app.example/cb#x')).toMatch(/fragment/);
      expect(redirectUriProblem('https://app.example/cb#')).toMatch(/fragment/);
      expect(redirectUriProblem('/cb')).toMatch(/absolute/);
      expect(redirectUriProblem('')).toMatch(/absolute/);
      expect(redirectUriProblem(`https://app.example/${'x'.repeat(2000)}`)).toMatch(/longer/);
    });
  });

  describe('matchRedirectUri (authorize)', () => {
    it('matches exactly', () => {
      expect(matchRedirectUri(['https://app.example/cb'], 'https://app.example/cb')).toBe(true);
      expect(matchRedirectUri(['https://app.example/cb'], 'https://app.example/cb/')).toBe(false);
      expect(matchRedirectUri(['https://app.example/cb'], 'https://app.example/cb?x=1')).toBe(false);
      expect(matchRedirectUri(['https://app.example/cb'], 'https://app.example:8443/cb')).toBe(false);
      expect(matchRedirectUri(['https://app.example/cb'], 'HTTPS://app.example/cb')).toBe(false);
      expect(matchRedirectUri([], 'https://app.example/cb')).toBe(false);
    });

    it('lets the port of a loopback redirect change (RFC 8252 §7.3): 127.0.0.1, [::1] and localhost', () => {
      expect(matchRedirectUri(['http://127.0.0.1/cb'], 'http://127.0.0.1:51234/cb')).toBe(true);
      expect(matchRedirectUri(['http://127.0.0.1:1000/cb'], 'http://127.0.0.1:2000/cb')).toBe(true);
      expect(matchRedirectUri(['http://127.0.0.1:1000/cb'], 'http://127.0.0.1/cb')).toBe(true);
      expect(matchRedirectUri(['http://[::1]/cb'], 'http://[::1]:51234/cb')).toBe(true);
      expect(matchRedirectUri(['http://localhost/callback'], 'http://localhost:51234/callback')).toBe(true);
      expect(matchRedirectUri(['http://127.0.0.1/'], 'http://127.0.0.1:33418/')).toBe(true);
    });

    it('keeps host, path, query and scheme exact on loopback', () => {
      expect(matchRedirectUri(['http://127.0.0.1/cb'], 'http://127.0.0.1:51234/other')).toBe(false);
      expect(matchRedirectUri(['http://127.0.0.1/cb'], 'http://localhost:51234/cb')).toBe(false);
      expect(matchRedirectUri(['http://localhost/cb'], 'http://127.0.0.1:51234/cb')).toBe(false);
      expect(matchRedirectUri(['http://[::1]/cb'], 'http://127.0.0.1:51234/cb')).toBe(false);
      expect(matchRedirectUri(['http://127.0.0.1/cb'], 'http://127.0.0.2:51234/cb')).toBe(false);
      expect(matchRedirectUri(['http://127.0.0.1/cb?a=1'], 'http://127.0.0.1:5/cb?a=2')).toBe(false);
      expect(matchRedirectUri(['http://127.0.0.1/cb?a=1'], 'http://127.0.0.1:5/cb?a=1')).toBe(true);
      expect(matchRedirectUri(['http://127.0.0.1/cb'], 'https://127.0.0.1:5/cb')).toBe(false);
      expect(matchRedirectUri(['http://127.0.0.1/cb'], 'http://user:pw@127.0.0.1:5/cb')).toBe(false);
      expect(matchRedirectUri(['http://127.0.0.1/cb'], 'http://127.0.0.1:5/cb#x')).toBe(false);
    });

    it('never relaxes the port for https or private-use schemes', () => {
      expect(matchRedirectUri(['https://localhost/cb'], 'https://localhost:5/cb')).toBe(false);
      expect(matchRedirectUri(['cursor://a/cb'], 'cursor://a:5/cb')).toBe(false);
    });

    it('does not throw on unparsable input', () => {
      expect(matchRedirectUri(['not a url'], 'http://127.0.0.1:5/cb')).toBe(false);
      expect(matchRedirectUri(['http://127.0.0.1/cb'], 'http://[::1')).toBe(false);
    });
  });

  it('isLoopbackHttp knows 127.0.0.1, [::1] and localhost only over http', () => {
    expect(isLoopbackHttp(new URL('http://127.0.0.1:1/'))).toBe(true);
    expect(isLoopbackHttp(new URL('http://[::1]/'))).toBe(true);
    expect(isLoopbackHttp(new URL('http://LOCALHOST/'))).toBe(true);
    expect(isLoopbackHttp(new URL('https://127.0.0.1/'))).toBe(false);
    expect(isLoopbackHttp(new URL('http://127.1/'))).toBe(true); // WHATWG URL normalises 127.1 to 127.0.0.1
    expect(isLoopbackHttp(new URL('http://localhost.example/'))).toBe(false);
  });

  it('redirectHost shows host:port, or the scheme for private-use schemes', () => {
    expect(redirectHost('http://127.0.0.1:33418/callback')).toBe('127.0.0.1:33418');
    expect(redirectHost('https://claude.ai/api/mcp/auth_callback')).toBe('claude.ai');
    expect(redirectHost('cursor://anysphere.cursor-retrieval/cb')).toBe('anysphere.cursor-retrieval');
    expect(redirectHost('com.example.app:/oauth2redirect')).toBe('com.example.app://');
  });
});
