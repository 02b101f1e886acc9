/**
 * The change feed of a SQLite store: an in-process emitter. keyhole allows one process per SQLite file
 * (../sqlite/process-lock.ts), so every instance that can share the file lives in this process; feeds opened on the
 * same `channel` (the database's resolved path) reach each other synchronously. `:memory:` databases get a private
 * channel each.
 */
import { deliver, type Change, type ChangeFeed, type ChangeKind, type ChangeListener } from './change-feed.js';

const channels = new Map<string, Set<MemoryChangeFeed>>();

export class MemoryChangeFeed implements ChangeFeed {
  readonly #listeners = new Set<ChangeListener>();
  readonly #channel: string | undefined;
  #closed = false;

  /** `channel` undefined: a private feed (nobody else hears it). */
  constructor(channel?: string) {
    this.#channel = channel;
    if (channel === undefined) return;
    let peers = channels.get(channel);
    if (!peers) channels.set(channel, (peers = new Set()));
    peers.add(this);
  }

  async publish(kind: ChangeKind, id: string): Promise<void> {
    if (this.#closed || this.#channel === undefined) return;
    const change: Change = { kind, id };
    for (const peer of channels.get(this.#channel) ?? []) if (peer !== this) peer.#receive(change);
  }

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    if (this.#channel === undefined) return;
    const peers = channels.get(this.#channel);
    peers?.delete(this);
    if (peers?.size === 0) channels.delete(this.#channel);
  }

  #receive(change: Change): void {
    deliver([...this.#listeners], change);
  }
}
