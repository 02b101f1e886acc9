/**
 * Tracks when a client was last used, for DCR expiry (./client-expiry.ts) and the admin client filters.
 * "Used" means, precisely: a completed authorization (`code.issued` at the upstream callback) or a token issued or
 * refreshed at /token (`token.issued`, `token.refreshed`), successful ones only. MCP requests with an access token do
 * not count by themselves (an access token lives at most a day, so a client in use refreshes well within any expiry
 * window) — that keeps the request hot path free of writes to the clients table.
 *
 * Implemented as an EventRecorder: every one of those steps already records its event with the client id, so the
 * touch happens in exactly those places without each endpoint having to remember it.
 */
import type { Store } from '../store/types.js';
import { EventRecorder, type EventInput, type LogSink } from '../events/recorder.js';
import type { EventType } from '../events/event-types.js';

/** The events that mark a use of their client. */
export const CLIENT_USE_EVENTS: ReadonlySet<EventType> = new Set<EventType>(['code.issued', 'token.issued', 'token.refreshed']);

export class ClientUseRecorder extends EventRecorder {
  readonly #store: Store;
  readonly #clock: () => number;
  /**
   * The clients this recorder touched during second `#second`. `touch` stores whole seconds and changes nothing when
   * the row already has this second, so a second touch within it is skipped: on a busy client (issue 17: every
   * refresh is a use) that is one statement, and a round trip on PostgreSQL, fewer per grant. Bounded: only the
   * current second's clients are kept.
   */
  #second = -1;
  readonly #touched = new Set<string>();

  constructor(store: Store, log: LogSink | undefined, clock: () => number) {
    super(store, log, clock);
    this.#store = store;
    this.#clock = clock;
  }

  override async record(e: EventInput, via?: Store): Promise<void> {
    await super.record(e, via);
    if ((e.outcome ?? 'success') !== 'success' || !e.clientId || !CLIENT_USE_EVENTS.has(e.type)) return;
    const now = this.#clock();
    if (now !== this.#second) {
      this.#second = now;
      this.#touched.clear();
    } else if (this.#touched.has(e.clientId)) {
      return;
    }
    await (via ?? this.#store).clients.touch(e.clientId, now);
    if (now === this.#second) this.#touched.add(e.clientId);
  }
}
