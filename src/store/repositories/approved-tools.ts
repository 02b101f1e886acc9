/**
 * The approved tool list of a server with `pinTools` (issue 15): which tools an admin approved, each as the digest
 * of its description and inputSchema (src/policy/pinned-tools.ts `toolDigest`), who approved it and when.
 * One list per server; a new approval replaces it. Engine-neutral and async, like every repository of the store.
 *
 * Table (SQLite, migration 6; ../sqlite/approved-tools.ts): `approved_tools`
 * | column | holds |
 * |---|---|
 * | `server` (key) | the configured server name |
 * | `tools` | JSON object: tool name → 64 lowercase hex (SHA-256 digest) |
 * | `approved_by` | who approved: `admin:token` (the admin JSON API) |
 * | `approved_at` | seconds since the epoch |
 */
export interface ApprovedToolList {
  server: string;
  /** Tool name → digest (64 lowercase hex). */
  tools: Readonly<Record<string, string>>;
  approvedBy: string;
  approvedAt: number;
}

export interface ApprovedToolsRepository {
  get(server: string): Promise<ApprovedToolList | undefined>;
  /** Replaces the server's approved list. */
  approve(server: string, tools: Readonly<Record<string, string>>, by: string, at: number): Promise<void>;
}
