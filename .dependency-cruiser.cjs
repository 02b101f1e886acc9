/**
 * keyhole's layers, enforced in `npm test` (docs/architecture.md explains each one).
 *
 * From the ground up; a module may import its own layer and any layer below it, never one above:
 *   1. pure        src/oauth, src/http           protocol vocabulary and HTTP helpers, no state
 *   2. config      src/config                    the zod schema and its loader
 *   2b. policy     src/policy                    traffic policy units (limits, breaker, argument rules, pins, redaction): pure, clock injected
 *   3. store       src/store                     storage interfaces, SQLite, hashing and the vault cipher
 *   4. events      src/events                    lifecycle event recording (writes through the store)
 *   4b. audit      src/audit                     audit records, write-behind queue, trace context, tool-list drift, retention
 *   4c. metrics    src/metrics                   Prometheus registry, bounded labels, /metrics, /healthz, /readyz
 *   4d. alerts     src/alerts                    alert triggers and the signed webhook dispatcher
 *   5. vault       src/vault                     where upstream secrets live, keys and their rotation
 *   6. upstream    src/upstream                  keyhole as an OAuth client, credential sources
 *   7. grants      src/grants                    the rules that own a grant (GrantService): complete, redeem, rotate, revoke
 *   7b. people     src/people                    people (issue 13): group policy, PeopleService (sign-in, offboard), org IdP client, person sessions
 *   8. views       views/                        Hono JSX pages: props in, markup out
 *   9. surfaces    authorization-server, proxy, admin, connect, org-sign-in, scim, account: siblings that never import each other
 *  10. app         src/app.ts, src/keyhole.ts, src/observability.ts, src/cli.ts, src/cli/, src/demo.ts, src/index.ts
 *
 * There are no exceptions: a back-import fails `npm run lint:layers`, which `npm test` runs before the tests.
 */
const LAYERS = [
  ['pure', ['src/oauth/', 'src/http/']],
  ['config', ['src/config/']],
  ['policy', ['src/policy/']],
  ['store', ['src/store/']],
  ['events', ['src/events/']],
  ['audit', ['src/audit/']],
  ['metrics', ['src/metrics/']],
  ['alerts', ['src/alerts/']],
  ['vault', ['src/vault/']],
  ['upstream', ['src/upstream/']],
  ['grants', ['src/grants/']],
  ['people', ['src/people/']],
  ['views', ['views/']],
  ['surfaces', ['src/authorization-server/', 'src/proxy/', 'src/admin/', 'src/connect/', 'src/org-sign-in/', 'src/scim/', 'src/account/']],
  ['app', ['src/app.ts', 'src/keyhole.ts', 'src/observability.ts', 'src/cli.ts', 'src/cli/', 'src/demo.ts', 'src/index.ts']],
];

const escape = (p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const pathsOf = (prefixes) => `^(${prefixes.map(escape).join('|')})`;

/** Each layer may not import any layer above it. */
const layerRules = LAYERS.slice(0, -1).map(([name, prefixes], i) => ({
  name: `no-import-above-${name}`,
  comment: `${name} (${prefixes.join(', ')}) must not import a higher layer`,
  severity: 'error',
  from: { path: pathsOf(prefixes) },
  to: { path: pathsOf(LAYERS.slice(i + 1).flatMap(([, p]) => p)) },
}));

/** The surfaces are siblings: the resource side (proxy) and the authorization side never import each other. */
const SURFACES = ['src/authorization-server/', 'src/proxy/', 'src/admin/', 'src/connect/', 'src/org-sign-in/', 'src/scim/', 'src/account/'];
const siblingRules = SURFACES.map((surface) => ({
  name: `no-sibling-import-${surface.split('/')[1]}`,
  comment: `${surface} must not import another surface; shared code belongs one layer down`,
  severity: 'error',
  from: { path: `^${escape(surface)}` },
  to: { path: pathsOf(SURFACES.filter((s) => s !== surface)) },
}));

/** Production code never imports tests, the demo's peers or the benchmark. */
const productionRules = [
  {
    name: 'no-test-or-bench-from-src',
    severity: 'error',
    from: { path: '^(src|views)/' },
    to: { path: '^(test|bench)/' },
  },
  {
    name: 'no-circular',
    severity: 'error',
    from: { path: '^(src|views)/' },
    to: { circular: true },
  },
];

module.exports = {
  forbidden: [...layerRules, ...siblingRules, ...productionRules],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|dist-bench)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
