import { describe, expect, it } from 'vitest';
import { isLoopbackHttp } from '../../../src/oauth/redirect-uri.js';

describe('isLoopbackHttp', () => {
  it.each(['http://127.0.0.1/cb', 'http://127.0.0.1:8787/mcp', 'http://localhost:3000/', 'http://[::1]:9000/x'])('accepts %s', (u) => {
    expect(isLoopbackHttp(new URL(u))).toBe(true);
  });

  it.each([
    'https://127.0.0.1/cb', // https is not "plain http"
    'http://127.0.0.2/', // only 127.0.0.1 of 127/8, as before
    'http://localhost.example.com/',
    'http://example.com/',
    'http://[::2]/',
    'http://0.0.0.0/',
    'com.example.app:/cb',
  ])('refuses %s', (u) => {
    expect(isLoopbackHttp(new URL(u))).toBe(false);
  });
});
