/** `keyhole grants list|revoke`: the admin API's grants, from a terminal (admin-client.ts says where they go). */
import { adminClient, TARGET_HELP, TARGET_OPTIONS, type AdminClient } from './admin-client.js';
import { parse, UsageError, type CliIo, type Command } from './io.js';

type GrantJson = {
  id: string; status: string; subject: string; server: string; scopes: string[];
  client: { client_id?: string; name?: string | null } | null; created_at: number; last_used_at: number | null;
};

const time = (s: number | null) => (s ? new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');

function table(grants: GrantJson[]): string[] {
  const rows = [['ID', 'STATUS', 'SERVER', 'USER', 'CLIENT', 'SCOPES', 'CREATED', 'LAST USED']];
  for (const g of grants) rows.push([g.id, g.status, g.server, g.subject, g.client?.client_id ?? '-', g.scopes.join(' ') || '-', time(g.created_at), time(g.last_used_at)]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

async function listAll(client: AdminClient, query: URLSearchParams): Promise<GrantJson[]> {
  const all: GrantJson[] = [];
  for (let offset = 0; ; offset += 500) {
    query.set('limit', '500');
    query.set('offset', String(offset));
    const page = await client.call('GET', `/admin/api/grants?${query}`);
    const grants = page.grants as GrantJson[];
    all.push(...grants);
    if (grants.length < 500) return all;
  }
}

const OPTIONS = {
  ...TARGET_OPTIONS,
  user: { type: 'string' }, client: { type: 'string' }, server: { type: 'string' },
  all: { type: 'boolean' }, json: { type: 'boolean' }, yes: { type: 'boolean', short: 'y' },
} as const;

async function list(client: AdminClient, v: { user?: string | undefined; client?: string | undefined; server?: string | undefined; all?: boolean | undefined; json?: boolean | undefined }, io: CliIo): Promise<number> {
  const query = new URLSearchParams();
  if (v.user) query.set('subject', v.user);
  if (v.client) query.set('client_id', v.client);
  if (v.server) query.set('server', v.server);
  if (!v.all) query.set('status', 'active');
  const grants = await listAll(client, query);
  if (v.json) io.out(JSON.stringify(grants, null, 2));
  else if (grants.length === 0) io.out(v.all ? 'no grants' : 'no active grants');
  else for (const line of table(grants)) io.out(line);
  return 0;
}

async function revoke(client: AdminClient, id: string | undefined, v: { user?: string | undefined; client?: string | undefined; server?: string | undefined; yes?: boolean | undefined }, io: CliIo): Promise<number> {
  const filter = { ...(v.user ? { subject: v.user } : {}), ...(v.client ? { client_id: v.client } : {}), ...(v.server ? { server: v.server } : {}) };
  const byFilter = Object.keys(filter).length > 0;
  if (!!id === byFilter) throw new UsageError('grants revoke needs a grant ID, or --user/--client/--server (not both)', 'grants');
  if (id) {
    const { grant } = (await client.call('GET', `/admin/api/grants/${encodeURIComponent(id)}`)) as { grant: GrantJson };
    if (grant.status !== 'active') {
      io.out(`grant ${id} is already ${grant.status}`);
      return 0;
    }
    if (!v.yes && !(await io.confirm(`Revoke grant ${id} (user ${grant.subject}, server ${grant.server}, client ${grant.client?.client_id ?? '-'})?`))) {
      io.err('not revoked');
      return 1;
    }
    const done = await client.call('DELETE', `/admin/api/grants/${encodeURIComponent(id)}`);
    io.out(done.revoked ? `revoked grant ${id}` : `grant ${id} was already revoked`);
    return 0;
  }
  const plan = await client.call('POST', '/admin/api/grants/revoke', { filter, dry_run: true });
  const described = Object.entries(filter).map(([k, val]) => `${k === 'subject' ? 'user' : k === 'client_id' ? 'client' : 'server'} ${val}`).join(', ');
  if (plan.count === 0) {
    io.out(`no active grants match ${described}`);
    return 0;
  }
  if (!v.yes && !(await io.confirm(`Revoke ${String(plan.count)} active grant(s) of ${described}?`))) {
    io.err('not revoked');
    return 1;
  }
  const done = await client.call('POST', '/admin/api/grants/revoke', { filter });
  io.out(`revoked ${String(done.revoked)} grant(s): ${(done.grant_ids as string[]).join(', ')}`);
  return 0;
}

export const grantsCommand: Command = {
  name: 'grants',
  summary: 'list or revoke grants: list [--user|--client|--server] | revoke ID|--user|--client|--server',
  help: `Usage:
  keyhole grants list   (--url URL | --config FILE) [--user SUBJECT] [--client ID] [--server NAME] [--all] [--json]
  keyhole grants revoke (--url URL | --config FILE) ID [--yes]
  keyhole grants revoke (--url URL | --config FILE) --user SUBJECT | --client ID | --server NAME [--yes]

Options:
${TARGET_HELP}
  --user SUBJECT       grants of this upstream account (the grant's subject)
  --client ID          grants of this client
  --server NAME        grants on this server
  --all                list: revoked grants too (default: active only)
  --json               list: JSON instead of a table
  -y, --yes            revoke: do not ask for confirmation

A revocation ends the grant everywhere: keyhole's tokens, the stored upstream tokens, and the upstream refresh
token (RFC 7009). Everything one person holds, across upstream accounts: the admin People page or
POST /admin/api/people/{id}/offboard (with identity).

Example:
  KEYHOLE_ADMIN_TOKEN=… keyhole grants list --url https://keyhole.example.com --user alice
  keyhole grants revoke --config keyhole.json --client c_9f2e --yes
`,
  async run(args, io) {
    const { values, positionals } = parse('grants', args, OPTIONS, true);
    const [sub, ...ids] = positionals;
    if (sub !== 'list' && sub !== 'revoke') throw new UsageError(`unknown grants command ${JSON.stringify(sub ?? '')}: list or revoke`, 'grants');
    if (ids.length > (sub === 'revoke' ? 1 : 0)) throw new UsageError(`unexpected argument ${JSON.stringify(ids.at(-1))}`, 'grants');
    const client = await adminClient(values, `grants ${sub}`, io, { readOnly: sub === 'list' });
    try {
      return sub === 'list' ? await list(client, values, io) : await revoke(client, ids[0], values, io);
    } finally {
      await client.close();
    }
  },
};
