/** `keyhole events tail [--follow] [--type T]`: the lifecycle events, newest last, from the admin API. */
import { adminClient, TARGET_HELP, TARGET_OPTIONS, type AdminClient } from './admin-client.js';
import { intOption, parse, UsageError, type CliIo, type Command } from './io.js';
import { stopOnSignals } from './signals.js';

type EventJson = {
  id: number; at: number; time: string; type: string; outcome: string;
  grant_id: string | null; client_id: string | null; server: string | null; subject: string | null;
};

function line(e: EventJson, json: boolean | undefined): string {
  if (json) return JSON.stringify(e);
  const ids = ([['server', e.server], ['grant', e.grant_id], ['client', e.client_id], ['user', e.subject]] as const)
    .filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`);
  return [e.time, e.type, e.outcome, ...ids].join(' ');
}

const OPTIONS = {
  ...TARGET_OPTIONS,
  follow: { type: 'boolean', short: 'f' }, type: { type: 'string' }, server: { type: 'string' },
  lines: { type: 'string', short: 'n' }, json: { type: 'boolean' }, 'interval-ms': { type: 'string' },
} as const;

async function fetchNewest(client: AdminClient, filter: URLSearchParams, limit: number, since?: number): Promise<EventJson[]> {
  const q = new URLSearchParams(filter);
  q.set('limit', String(limit));
  if (since !== undefined) q.set('since', String(since));
  const page = await client.call('GET', `/admin/api/events?${q}`);
  return (page.events as EventJson[]).slice().reverse(); // the API answers newest first
}

export const eventsCommand: Command = {
  name: 'events',
  summary: 'print lifecycle events: tail [--follow] [--type T]',
  help: `Usage:
  keyhole events tail (--url URL | --config FILE) [-n 20] [--type TYPE] [--server NAME] [--follow] [--json]

Options:
${TARGET_HELP}
  -n, --lines N        how many of the latest events to print first (default 20, at most 500)
  --type TYPE          only this event type, e.g. grant.created, grant.revoked, consent.approved
  --server NAME        only events of this server
  -f, --follow         keep printing new events as they happen (Ctrl+C stops)
  --interval-ms N      follow: how often to ask (default 1000)
  --json               one JSON object per line instead of text

Events carry ids and fingerprints, never a token value.

Example:
  KEYHOLE_ADMIN_TOKEN=… keyhole events tail --url https://keyhole.example.com --follow --type grant.revoked
`,
  async run(args, io: CliIo) {
    const { values, positionals } = parse('events', args, OPTIONS, true);
    if (positionals.length !== 1 || positionals[0] !== 'tail') throw new UsageError(`unknown events command ${JSON.stringify(positionals.join(' '))}: tail`, 'events');
    const lines = intOption(values.lines, '--lines', 'events') ?? 20;
    if (lines < 1 || lines > 500) throw new UsageError('--lines must be between 1 and 500', 'events');
    const interval = intOption(values['interval-ms'], '--interval-ms', 'events') ?? 1000;
    const filter = new URLSearchParams();
    if (values.type) filter.set('type', values.type);
    if (values.server) filter.set('server', values.server);
    const client = await adminClient(values, 'events tail', io, { readOnly: true });
    let last: EventJson | undefined;
    try {
      for (const e of await fetchNewest(client, filter, lines)) {
        io.out(line(e, values.json));
        last = e;
      }
    } catch (e) {
      await client.close();
      throw e;
    }
    if (!values.follow) {
      await client.close();
      return 0;
    }
    let stopped = false;
    stopOnSignals(async () => {
      stopped = true;
      await client.close();
    });
    while (!stopped) {
      await new Promise((r) => setTimeout(r, interval));
      if (stopped) break;
      // `since` is inclusive and in seconds: ask from the last event's second, skip the ids already printed.
      const fresh = (await fetchNewest(client, filter, 500, last?.at)).filter((e) => !last || e.id > last.id);
      for (const e of fresh) {
        io.out(line(e, values.json));
        last = e;
      }
    }
    return undefined;
  },
};
