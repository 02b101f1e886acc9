/**
 * Bounded label values: a Prometheus series exists per distinct label set, so every label that comes from a
 * request is mapped onto a known, finite set before it reaches a metric.
 * - server: a configured server name, else `other`;
 * - method: an MCP method (the list below), `none` when the message has none (GET streams, responses), else `other`;
 * - tool: a name from the server's known set (exact names from config + the upstream's last `tools/list`,
 *   at most `maxToolsPerServer`), `none` when absent, else `other`.
 */

/** JSON-RPC methods of MCP (2025-03-26 … 2026-07-28), requests and notifications a client sends. */
export const MCP_METHODS = [
  'initialize', 'ping', 'server/discover',
  'tools/list', 'tools/call',
  'resources/list', 'resources/templates/list', 'resources/read', 'resources/subscribe', 'resources/unsubscribe',
  'prompts/list', 'prompts/get',
  'completion/complete', 'logging/setLevel',
  'tasks/get', 'tasks/list', 'tasks/result', 'tasks/cancel', 'tasks/update',
  'notifications/initialized', 'notifications/cancelled', 'notifications/progress', 'notifications/roots/list_changed',
  'roots/list', 'sampling/createMessage', 'elicitation/create',
] as const;

export const OTHER = 'other';
export const NONE = 'none';

export interface LabelBoundsOptions {
  servers: readonly string[];
  /** Tool names per server from config (scope tool lists); globs are skipped, only exact names count. */
  configTools?: Readonly<Record<string, readonly string[]>>;
  maxToolsPerServer?: number;
}

export interface LabelBounds {
  server(name: string | null | undefined): string;
  method(name: string | null | undefined): string;
  tool(server: string, name: string | null | undefined): string;
  /** Replaces the upstream's listed tools of a server (fed from each `tools/list` answer). */
  setUpstreamTools(server: string, names: readonly string[]): void;
  readonly servers: readonly string[];
}

const METHODS: ReadonlySet<string> = new Set(MCP_METHODS);

export function createLabelBounds(opts: LabelBoundsOptions): LabelBounds {
  if (!Array.isArray(opts.servers) || opts.servers.length === 0) throw new TypeError('createLabelBounds: servers must be a non-empty array');
  const max = opts.maxToolsPerServer ?? 500;
  if (!Number.isInteger(max) || max < 1) throw new TypeError('createLabelBounds: maxToolsPerServer must be a positive integer');
  const servers = new Set(opts.servers);
  const configured = new Map<string, Set<string>>();
  const listed = new Map<string, Set<string>>();
  for (const s of servers) {
    const names = (opts.configTools?.[s] ?? []).filter((n) => typeof n === 'string' && n.length > 0 && !n.includes('*')).slice(0, max);
    configured.set(s, new Set(names));
    listed.set(s, new Set());
  }
  return {
    servers: [...servers],
    server: (name) => (name && servers.has(name) ? name : OTHER),
    method: (name) => (name === null || name === undefined ? NONE : METHODS.has(name) ? name : OTHER),
    tool(server, name) {
      if (name === null || name === undefined) return NONE;
      return configured.get(server)?.has(name) || listed.get(server)?.has(name) ? name : OTHER;
    },
    setUpstreamTools(server, names) {
      if (!servers.has(server)) return;
      const room = Math.max(0, max - (configured.get(server)?.size ?? 0));
      listed.set(server, new Set(names.filter((n) => typeof n === 'string' && n.length > 0 && n.length <= 200).slice(0, room)));
    },
  };
}
