/**
 * The pinned tools of every server with `pinTools`, replaceable while keyhole runs (issue 15): the approved
 * snapshot changes when an admin approves a list, and the data plane must see the new one at once.
 * - `pins(server)` gives the current {@link PinnedTools} (null for a server without `pinTools`). Until a snapshot is
 *   loaded or approved, nothing is approved (fail closed).
 * - Its `keepTool` also remembers each tool's last listed form (the upstream's own `tools/list`, before any filter),
 *   so an admin approves what the upstream actually serves: {@link PinRegistry.snapshotOf}. At most
 *   {@link MAX_LISTED} tools are remembered per server.
 */
import { createPinnedTools, diffTools, toolDigest, type PinnedTools, type ToolDiff, type ToolSnapshot } from './pinned-tools.js';

export const MAX_LISTED = 10_000;

export interface PinRegistry {
  /** The current pins of a server with `pinTools`, else null. */
  pins(server: string): PinnedTools | null;
  /** Whether the server has `pinTools`. */
  pinned(server: string): boolean;
  /** Replaces the approved snapshot (loaded at startup, or just approved). */
  setApproved(server: string, snapshot: ToolSnapshot): void;
  approved(server: string): ToolSnapshot;
  /** The tools last listed by the upstream (name order). */
  listed(server: string): unknown[];
  /**
   * The snapshot an approval of the listed tools would store: every listed tool, or only `names` (each must have
   * been listed: unknown names come back in `unknown`); and how it differs from the current approval.
   */
  snapshotOf(server: string, names?: readonly string[]): { snapshot: Record<string, string>; unknown: string[]; diff: ToolDiff };
}

export function createPinRegistry(servers: readonly string[]): PinRegistry {
  const state = new Map<string, { approved: ToolSnapshot; pins: PinnedTools; listed: Map<string, unknown> }>();
  const wrap = (approved: ToolSnapshot, listed: Map<string, unknown>): PinnedTools => {
    const inner = createPinnedTools(approved);
    return {
      keepTool(tool) {
        const name = (tool as { name?: unknown } | null)?.name;
        if (typeof name === 'string' && (listed.has(name) || listed.size < MAX_LISTED)) listed.set(name, tool);
        return inner.keepTool(tool);
      },
      checkCall: (name) => inner.checkCall(name),
      diff: (tools) => inner.diff(tools),
    };
  };
  for (const server of servers) {
    const listed = new Map<string, unknown>();
    state.set(server, { approved: {}, pins: wrap({}, listed), listed });
  }
  const of = (server: string) => {
    const s = state.get(server);
    if (!s) throw new TypeError(`pin registry: server ${JSON.stringify(server)} does not pin its tools`);
    return s;
  };
  return {
    pins: (server) => state.get(server)?.pins ?? null,
    pinned: (server) => state.has(server),
    setApproved(server, snapshot) {
      const s = of(server);
      const approved = { ...snapshot };
      s.pins = wrap(approved, s.listed); // validates the digests before anything changes
      s.approved = approved;
    },
    approved: (server) => of(server).approved,
    listed: (server) => [...of(server).listed.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, t]) => t),
    snapshotOf(server, names) {
      const s = of(server);
      const wanted = names ?? [...s.listed.keys()];
      const snapshot: Record<string, string> = {};
      const unknown: string[] = [];
      for (const name of wanted) {
        const tool = s.listed.get(name);
        if (tool === undefined) unknown.push(name);
        else snapshot[name] = toolDigest(tool as { description?: unknown; inputSchema?: unknown });
      }
      return { snapshot, unknown, diff: diffTools(s.approved, this.listed(server)) };
    },
  };
}
