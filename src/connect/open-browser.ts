/**
 * Opens a URL with the platform's opener: `open` (macOS), `rundll32 url.dll,FileProtocolHandler` (Windows: unlike
 * `cmd /c start` it takes the URL as one argument, so `&` in the query needs no shell escaping), `xdg-open`
 * elsewhere. The URL is always an argument, never part of a shell command line. Failure is reported, not fatal:
 * the URL is on stderr anyway.
 */
import { spawn } from 'node:child_process';

export function openerCommand(platform: NodeJS.Platform, url: string): { command: string; args: string[] } {
  if (platform === 'darwin') return { command: 'open', args: [url] };
  if (platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
  return { command: 'xdg-open', args: [url] };
}

export function openBrowser(url: string, log: (line: string) => void, platform: NodeJS.Platform = process.platform): void {
  if (!/^https?:\/\//i.test(url)) {
    log('refusing to open a non-http(s) authorization URL');
    return;
  }
  const { command, args } = openerCommand(platform, url);
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.once('error', (e) => log(`could not start ${command} (${(e as NodeJS.ErrnoException).code ?? e.message}); open the URL above yourself`));
    child.unref();
  } catch (e) {
    log(`could not start ${command} (${(e as Error).message}); open the URL above yourself`);
  }
}
