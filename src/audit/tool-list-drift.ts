/**
 * Tool-list drift per server: a fingerprint of the upstream's `tools/list` (name → SHA-256 of the description +
 * the canonical JSON of its inputSchema, sorted keys; the same digest as pinned tools use) and the difference
 * between two fingerprints. Pure: the lead feeds it the tools of each `tools/list` answer and records an event
 * when `diff` is not empty.
 */
import { toolDigest } from '../policy/pinned-tools.js';

/** Tool name → 64 hex digest. */
export type ToolListFingerprint = ReadonlyMap<string, string>;

export interface ToolListDrift {
  added: string[];
  removed: string[];
  changed: string[];
}

export { toolDigest };

/** Entries that are not objects with a string `name` are skipped; a name listed twice keeps its first form. */
export function fingerprintToolList(tools: readonly unknown[]): ToolListFingerprint {
  const out = new Map<string, string>();
  for (const t of tools) {
    if (!t || typeof t !== 'object') continue;
    const tool = t as { name?: unknown; description?: unknown; inputSchema?: unknown };
    if (typeof tool.name !== 'string' || out.has(tool.name)) continue;
    out.set(tool.name, toolDigest(tool));
  }
  return out;
}

/** Names in each class, sorted. */
export function diff(previous: ToolListFingerprint, current: ToolListFingerprint): ToolListDrift {
  const out: ToolListDrift = { added: [], removed: [], changed: [] };
  for (const [name, digest] of current) {
    const before = previous.get(name);
    if (before === undefined) out.added.push(name);
    else if (before !== digest) out.changed.push(name);
  }
  for (const name of previous.keys()) if (!current.has(name)) out.removed.push(name);
  out.added.sort();
  out.removed.sort();
  out.changed.sort();
  return out;
}

export function hasDrift(d: ToolListDrift): boolean {
  return d.added.length + d.removed.length + d.changed.length > 0;
}
