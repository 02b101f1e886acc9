import { describe, expect, it } from 'vitest';
import { ConnectUsageError, parseConnectArgs, parseHeader } from '../../../src/connect/connect-options.js';

describe('parseHeader', () => {
  it('splits at the first colon and trims', () => {
    expect(parseHeader('X-Team:  platform: core ')).toEqual(['X-Team', 'platform: core']);
  });
  it('rejects a line without a name, an invalid name, or a value with a line break', () => {
    expect(() => parseHeader(': v')).toThrow(ConnectUsageError);
    expect(() => parseHeader('Bad Name: v')).toThrow(/not a valid header name/);
    expect(() => parseHeader('X-A: one\r\nX-B: two')).toThrow(/one line/);
  });
  it('rejects the headers the transport owns', () => {
    for (const name of ['Authorization', 'mcp-session-id', 'MCP-Protocol-Version', 'Content-Type', 'Accept']) {
      expect(() => parseHeader(`${name}: x`)).toThrow(/sets this header itself/);
    }
  });
});

describe('parseConnectArgs', () => {
  const url = 'https://kh.example.com/mcp/github';

  it('returns undefined for --help', () => {
    expect(parseConnectArgs(['--help'], {})).toBeUndefined();
    expect(parseConnectArgs([url, '-h'], {})).toBeUndefined();
  });

  it('has safe defaults: auto store, a browser, 300 s, no fixed port', () => {
    expect(parseConnectArgs([url], {})).toEqual({
      serverUrl: new URL(url), headers: {}, clientMetadataUrl: undefined, store: 'auto', openBrowser: true, authTimeoutMs: 300_000, callbackPort: undefined,
    });
  });

  it('collects repeated --header options', () => {
    expect(parseConnectArgs([url, '--header', 'X-A: 1', '-H', 'X-B: 2'], {})!.headers).toEqual({ 'X-A': '1', 'X-B': '2' });
  });

  it('takes the store from --store before KEYHOLE_CONNECT_STORE, and refuses unknown values', () => {
    expect(parseConnectArgs([url], { KEYHOLE_CONNECT_STORE: 'file' })!.store).toBe('file');
    expect(parseConnectArgs([url, '--store', 'keychain'], { KEYHOLE_CONNECT_STORE: 'file' })!.store).toBe('keychain');
    expect(() => parseConnectArgs([url], { KEYHOLE_CONNECT_STORE: 'plain' })).toThrow(/KEYHOLE_CONNECT_STORE/);
  });

  it('disables the browser with --no-browser or KEYHOLE_CONNECT_BROWSER=none', () => {
    expect(parseConnectArgs([url, '--no-browser'], {})!.openBrowser).toBe(false);
    expect(parseConnectArgs([url], { KEYHOLE_CONNECT_BROWSER: 'none' })!.openBrowser).toBe(false);
    expect(parseConnectArgs([url], { KEYHOLE_CONNECT_BROWSER: '' })!.openBrowser).toBe(true);
  });

  it('accepts http only for loopback servers and refuses fragments and other schemes', () => {
    expect(parseConnectArgs(['http://127.0.0.1:8787/mcp/demo'], {})!.serverUrl.href).toBe('http://127.0.0.1:8787/mcp/demo');
    expect(parseConnectArgs(['http://localhost:8787/mcp/demo'], {})!.serverUrl.hostname).toBe('localhost');
    expect(() => parseConnectArgs(['http://kh.example.com/mcp'], {})).toThrow(/use https/);
    expect(() => parseConnectArgs([`${url}#x`], {})).toThrow(/fragment/);
    expect(() => parseConnectArgs(['ws://kh.example.com/mcp'], {})).toThrow(/http\(s\)/);
    expect(() => parseConnectArgs([], {})).toThrow(/needs the MCP server URL/);
    expect(() => parseConnectArgs([url, url], {})).toThrow(/one MCP server URL/);
  });

  it('needs an https client metadata document URL with a path', () => {
    expect(parseConnectArgs([url, '--client-metadata-url', 'https://app.example.com/oauth/client.json'], {})!.clientMetadataUrl).toBe('https://app.example.com/oauth/client.json');
    expect(() => parseConnectArgs([url, '--client-metadata-url', 'https://app.example.com/'], {})).toThrow(/with a path/);
    expect(() => parseConnectArgs([url, '--client-metadata-url', 'http://app.example.com/c.json'], {})).toThrow(/https/);
  });

  it('bounds --auth-timeout and --callback-port, and turns unknown options into usage errors', () => {
    expect(parseConnectArgs([url, '--auth-timeout', '60', '--callback-port', '33418'], {})).toMatchObject({ authTimeoutMs: 60_000, callbackPort: 33418 });
    expect(() => parseConnectArgs([url, '--auth-timeout', '0'], {})).toThrow(/--auth-timeout/);
    expect(() => parseConnectArgs([url, '--callback-port', '70000'], {})).toThrow(/--callback-port/);
    expect(() => parseConnectArgs([url, '--token', 'x'], {})).toThrow(ConnectUsageError);
  });
});
