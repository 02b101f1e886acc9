/**
 * Lifecycle event recording: one row in the store and one JSON log line per event.
 * docs/invariants.md #1: events hold ids and fingerprints (`fp_…`), never token values. As defence in depth the
 * recorder refuses detail values that look like keyhole tokens and redacts them.
 */
import type { Store } from '../store/types.js';
import type { EventType } from './event-types.js';

export interface EventInput {
  type: EventType;
  outcome?: 'success' | 'failure';
  grantId?: string | null;
  clientId?: string | null;
  server?: string | null;
  subject?: string | null;
  /** The person the event is about (issue 13). */
  personId?: string | null;
  detail?: Record<string, unknown>;
}

export type LogSink = (line: string) => void;

/** keyhole's token prefixes, and JWT-looking strings: never allowed in an event. */
const SECRET_LIKE = /kh_(?:at|rt|code|cs|ps)_[A-Za-z0-9_-]{8,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g;

function redact(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(SECRET_LIKE, '[redacted]');
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v)]));
  return value;
}

export class EventRecorder {
  constructor(
    private readonly store: Store,
    private readonly log: LogSink = (line) => process.stderr.write(`${line}\n`),
    private readonly clock: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  /**
   * @param via the transaction-scoped store when the event belongs to a transaction (committed or rolled back with
   *   it); the recorder's own store otherwise.
   */
  async record(e: EventInput, via?: Store): Promise<void> {
    const at = this.clock();
    const detail = redact(e.detail ?? {}) as Record<string, unknown>;
    const row = {
      at,
      type: e.type,
      grantId: e.grantId ?? null,
      clientId: e.clientId ?? null,
      server: e.server ?? null,
      subject: e.subject ?? null,
      ...(e.personId ? { personId: e.personId } : {}),
      outcome: e.outcome ?? 'success',
      detail,
    };
    const id = await (via ?? this.store).events.append(row);
    this.log(JSON.stringify({ level: row.outcome === 'success' ? 'info' : 'warn', msg: 'keyhole.event', id, ...row, at: new Date(at * 1000).toISOString() }));
  }
}
