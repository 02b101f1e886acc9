/**
 * Pinned tool lists (issue 15, units only): with `pinTools`, only tools whose description and inputSchema match
 * an approved snapshot are listed and callable. A snapshot maps a tool name to
 * `sha256(description + canonicalJson(inputSchema))` in hex (absent description = "", absent schema = `null`).
 * Storing snapshots and the admin approve endpoint come later; these units compare.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

export type ToolSnapshot = Readonly<Record<string, string>>;

export interface ToolDiff {
  unchanged: string[];
  changed: string[];
  added: string[];
  removed: string[];
}

export type PinnedCallDecision = { ok: true } | { ok: false; reason: 'changed' | 'unapproved' };

export interface PinnedTools {
  /** tools/list filter: keeps a tool only if approved and unchanged; remembers what it saw for `checkCall`. */
  keepTool(tool: unknown): boolean;
  /**
   * tools/call check: refuses a tool not in the snapshot, or one whose last listed form differed from it.
   * A tool not listed since startup is judged by the snapshot alone.
   */
  checkCall(name: string): PinnedCallDecision;
  diff(tools: readonly unknown[]): ToolDiff;
}

interface ToolLike { name: string; description?: unknown; inputSchema?: unknown }
const isTool = (t: unknown): t is ToolLike => !!t && typeof t === 'object' && typeof (t as { name?: unknown }).name === 'string';

export function toolDigest(tool: { description?: unknown; inputSchema?: unknown }): string {
  const description = typeof tool.description === 'string' ? tool.description : '';
  return createHash('sha256').update(description + canonicalJson(tool.inputSchema ?? null)).digest('hex');
}

/** Names in each class, sorted. A tool listed twice counts once (its first form). */
export function diffTools(approved: ToolSnapshot, tools: readonly unknown[]): ToolDiff {
  const out: ToolDiff = { unchanged: [], changed: [], added: [], removed: [] };
  const seen = new Set<string>();
  for (const t of tools) {
    if (!isTool(t) || seen.has(t.name)) continue;
    seen.add(t.name);
    const pinned = Object.prototype.hasOwnProperty.call(approved, t.name) ? approved[t.name] : undefined;
    if (pinned === undefined) out.added.push(t.name);
    else (pinned === toolDigest(t) ? out.unchanged : out.changed).push(t.name);
  }
  for (const name of Object.keys(approved)) if (!seen.has(name)) out.removed.push(name);
  for (const list of Object.values(out)) list.sort();
  return out;
}

const OK: PinnedCallDecision = Object.freeze({ ok: true });

export function createPinnedTools(approved: ToolSnapshot): PinnedTools {
  for (const [name, digest] of Object.entries(approved)) {
    if (!/^[0-9a-f]{64}$/.test(digest)) throw new TypeError(`approved digest of ${name} must be 64 lowercase hex characters`);
  }
  const pinned = new Map(Object.entries(approved));
  /** Only approved names are remembered: bounded by the snapshot. */
  const changed = new Set<string>();
  return {
    keepTool(tool) {
      if (!isTool(tool)) return false;
      const want = pinned.get(tool.name);
      if (want === undefined) return false;
      const same = toolDigest(tool) === want;
      if (same) changed.delete(tool.name);
      else changed.add(tool.name);
      return same;
    },
    checkCall(name) {
      if (!pinned.has(name)) return { ok: false, reason: 'unapproved' };
      return changed.has(name) ? { ok: false, reason: 'changed' } : OK;
    },
    diff: (tools) => diffTools(approved, tools),
  };
}
