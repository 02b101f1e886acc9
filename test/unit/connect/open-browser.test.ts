import { describe, expect, it } from 'vitest';
import { openerCommand } from '../../../src/connect/open-browser.js';

describe('openerCommand', () => {
  const url = 'https://kh.example.com/authorize?a=1&b=2';
  it('passes the URL as one argument to the platform opener, never through a shell', () => {
    expect(openerCommand('darwin', url)).toEqual({ command: 'open', args: [url] });
    expect(openerCommand('win32', url)).toEqual({ command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] });
    expect(openerCommand('linux', url)).toEqual({ command: 'xdg-open', args: [url] });
    expect(openerCommand('freebsd', url)).toEqual({ command: 'xdg-open', args: [url] });
  });
});
