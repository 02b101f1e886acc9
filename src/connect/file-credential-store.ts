/**
 * The fallback store: one JSON file per MCP server URL under `$XDG_CONFIG_HOME/keyhole/connect/` (default
 * `~/.config/keyhole/connect/`), the directory 0700 and each file 0600. The tokens are in plain text, protected by
 * file permissions only (like mcp-remote's `~/.mcp-auth`, the gcloud or gh CLI caches): `keyhole connect` says so on
 * stderr whenever it uses this store. Writes are atomic (temp file + rename), so a crash never leaves half a record.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { decodeRecord, encodeRecord, type ConnectCredentials, type CredentialStore } from './credential-store.js';

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** `$XDG_CONFIG_HOME/keyhole/connect` (XDG Base Directory spec: an absolute path, else `~/.config`). */
export function connectConfigDir(env: NodeJS.ProcessEnv, home = homedir()): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && xdg.startsWith('/') ? xdg : join(home, '.config');
  return join(base, 'keyhole', 'connect');
}

/** The file for a server URL: a hash, so no URL character ever reaches the file system. */
export function credentialFileName(serverUrl: string): string {
  return `${createHash('sha256').update(serverUrl).digest('hex').slice(0, 32)}.json`;
}

export class FileCredentialStore implements CredentialStore {
  readonly kind = 'file';
  readonly location: string;

  constructor(readonly dir: string) {
    this.location = dir;
  }

  pathFor(serverUrl: string): string {
    return join(this.dir, credentialFileName(serverUrl));
  }

  async load(serverUrl: string): Promise<ConnectCredentials> {
    const path = this.pathFor(serverUrl);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw e;
    }
    // A record someone made group/world readable is tightened before use.
    if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, FILE_MODE);
    return decodeRecord(serverUrl, text);
  }

  async save(serverUrl: string, credentials: ConnectCredentials): Promise<void> {
    await this.#ensureDir();
    const path = this.pathFor(serverUrl);
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    // `wx` + mode: created 0600 (never briefly wider), and never following a planted file or link.
    await writeFile(tmp, encodeRecord(serverUrl, credentials), { mode: FILE_MODE, flag: 'wx' });
    try {
      await chmod(tmp, FILE_MODE); // the umask may only have narrowed it; make it exact
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async remove(serverUrl: string): Promise<void> {
    await rm(this.pathFor(serverUrl), { force: true });
  }

  async #ensureDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: DIR_MODE });
    if (((await stat(this.dir)).mode & 0o777) !== DIR_MODE) await chmod(this.dir, DIR_MODE);
  }
}
