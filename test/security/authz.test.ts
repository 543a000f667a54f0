import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { createKey, revokeKey } from '../../src/db/workspaces.js';
import { parseKey, SCOPES, type Scope } from '../../src/domain/keys.js';
import { enqueueDeliveries } from '../../src/db/webhooks.js';
import { deliveryId } from '../../src/webhooks/emit.js';
import { at, bearer, newTenant, type Tenant, tenantApp, testApp, type TestApp, unique } from '../helpers.js';

/**
 * The authorization matrix (SPEC §5, README "HTTP API"), generated from the operations: every
 * operation of the committed OpenAPI document, cross-checked against the routes the app really
 * registers, is called with every kind of credential and must give the documented answer. A route
 * added without documentation, or documented without a security requirement, fails here.
 */

type App = TestApp['app'];
interface Res {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
  json: () => any;
}
interface Operation {
  operationId: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { example?: unknown }> };
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
}

const PROBLEM = 'application/problem+json; charset=utf-8';
const ADMIN_TOKEN = 'a'.repeat(32);
/**
 * The app as configured in production, but with load shedding off: on a busy machine an event-loop
 * lag would answer 503 `overloaded` to authorized requests, which says nothing about authorization.
 */
const CONFIG = { ADMIN_TOKEN, LOAD_SHED_EVENT_LOOP_DELAY_MS: 0, WEBHOOK_ALLOW_PRIVATE: true };
const WRONG_ADMIN_TOKEN = 'b'.repeat(32);
const DOCUMENT = JSON.parse(readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8')) as Document;

/** Operations that need no credentials at all; any other operation without a security requirement fails. */
const PUBLIC_OPERATIONS = new Set(['getHealth', 'getReadiness']);
/** Routes served but hidden from the document; each answers without credentials. */
const UNDOCUMENTED_PUBLIC = ['/openapi.json', '/docs/'];
const HIDDEN = (url: string) => url === '/openapi.json' || url === '/metrics' || url === '/docs' || url.startsWith('/docs/');

interface Op {
  method: string;
  path: string;
  id: string;
  kind: 'public' | 'admin' | 'key';
  scope?: Scope;
  /** Every scope that grants the operation (security requirements are alternatives). */
  scopes: string[];
  op: Operation;
}

const OPERATIONS: Op[] = Object.entries(DOCUMENT.paths).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => {
    const requirement = op.security?.[0];
    const scope = requirement?.apiKey?.[0] as Op['scope'];
    const kind: Op['kind'] = scope ? 'key' : requirement && 'adminToken' in requirement ? 'admin' : 'public';
    const scopes = (op.security ?? []).flatMap((r) => (r as { apiKey?: string[] }).apiKey ?? []);
    return { method: method.toUpperCase(), path, id: op.operationId, kind, scope, scopes, op };
  }),
);

/** `METHOD /path/{param}` of every route the app serves (printRoutes draws a tree, four characters a level). */
function servedRoutes(app: App): Set<string> {
  const served = new Set<string>();
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^(.*?)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    stack.length = m[1]!.length / 4;
    stack.push(m[2]!);
    const url = stack.join('');
    if (!m[3]) continue;
    for (const method of m[3].split(', ')) served.add(`${method} ${url.replace(/:(\w+)/g, '{$1}')}`);
  }
  return served;
}

function assertProblem(t: Test, res: Res, status: number, code: string, what: string) {
  t.equal(res.statusCode, status, `${what}: status ${status}`);
  t.equal(res.headers['content-type'], PROBLEM, `${what}: problem+json`);
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(res.body);
  } catch {
    t.fail(`${what}: the body is JSON`);
  }
  t.match(body, { type: `urn:rapport:problem:${code}`, status, code, title: String, detail: String }, `${what}: code ${code}`);
}

// ---- the workspaces ------------------------------------------------------------------------------

/** Distinctive events of workspace A: secret-a and secret-b follow, like, reply to and mention each other; secret-c comes and goes. */
const SECRET_EVENTS = [
  { id: 'secret-evt-1', type: 'follow', actor: 'secret-a', target: 'secret-b', occurred_at: at(0) },
  { id: 'secret-evt-2', type: 'follow', actor: 'secret-b', target: 'secret-a', occurred_at: at(1) },
  { id: 'secret-evt-3', type: 'follow', actor: 'secret-a', target: 'secret-c', occurred_at: at(2) },
  { id: 'secret-evt-4', type: 'follow', actor: 'secret-d', target: 'secret-a', occurred_at: at(3) },
  { id: 'secret-evt-5', type: 'like', actor: 'secret-b', target: 'secret-a', occurred_at: at(4) },
  { id: 'secret-evt-6', type: 'like', actor: 'secret-a', target: 'secret-b', occurred_at: at(5) },
  { id: 'secret-evt-7', type: 'reply', actor: 'secret-b', target: 'secret-a', occurred_at: at(6), text: 'secret plans?' },
  { id: 'secret-evt-8', type: 'mention', actor: 'secret-a', target: 'secret-b', occurred_at: at(7), text: 'see https://secret.example' },
  { id: 'secret-evt-9', type: 'repost', actor: 'secret-d', target: 'secret-a', occurred_at: at(8) },
  { id: 'secret-evt-10', type: 'post', actor: 'secret-a', occurred_at: at(9), text: 'buy https://secret.example' },
  { id: 'secret-evt-11', type: 'post', actor: 'secret-a', occurred_at: at(10), text: 'buy https://secret.example' },
  { id: 'secret-evt-12', type: 'follow', actor: 'secret-b', target: 'secret-c', occurred_at: at(11) },
  { id: 'secret-evt-13', type: 'follow', actor: 'secret-d', target: 'secret-b', occurred_at: at(12) },
  // secret-c follows and unfollows both, so that their follower changes and unfollowers are not empty.
  { id: 'secret-evt-14', type: 'follow', actor: 'secret-c', target: 'secret-a', occurred_at: at(13) },
  { id: 'secret-evt-15', type: 'unfollow', actor: 'secret-c', target: 'secret-a', occurred_at: at(14) },
  { id: 'secret-evt-16', type: 'follow', actor: 'secret-c', target: 'secret-b', occurred_at: at(15) },
  { id: 'secret-evt-17', type: 'unfollow', actor: 'secret-c', target: 'secret-b', occurred_at: at(16) },
];
const SECRET_ACCOUNTS = ['secret-a', 'secret-b', 'secret-c', 'secret-d'];

interface World {
  app: App;
  db: TestApp['db'];
  /** Each tenant's `key` holds every scope. */
  a: Tenant;
  b: Tenant;
  /** Keys of A with one scope each. */
  single: { scope: Scope; key: string }[];
  /** A key of A with both scopes, revoked. */
  revoked: string;
  /** A throwaway key of B, revoked by the admin operation. */
  throwawayKeyId: string;
}

async function world(t: Test): Promise<World> {
  const { app, db } = await testApp(t, CONFIG);
  const all = async (tenant: Tenant) => ({ ...tenant, key: (await createKey(db, tenant.workspace, [...SCOPES])).key });
  const a = await all(await newTenant(db));
  const b = await all(await newTenant(db));
  const single = await Promise.all(SCOPES.map(async (scope) => ({ scope, key: (await createKey(db, a.workspace, [scope])).key })));
  const revokedKey = await createKey(db, a.workspace, ['events:write', 'scores:read']);
  await revokeKey(db, revokedKey.keyId);
  const throwaway = await createKey(db, b.workspace, ['scores:read']);
  const res = await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(a.key), payload: { events: SECRET_EVENTS } });
  t.strictSame(res.json(), { accepted: SECRET_EVENTS.length, duplicates: 0, rejected: [], rejected_total: 0 }, 'workspace A holds the secret events');
  // B has data of its own, so that its ranking is not trivially empty.
  const own = [
    { type: 'follow', actor: 'b-one', target: 'b-two', occurred_at: at(0) },
    { type: 'like', actor: 'b-two', target: 'b-one', occurred_at: at(1) },
  ];
  const resB = await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(b.key), payload: { events: own } });
  t.equal(resB.json().accepted, 2, 'workspace B holds its own events');
  return { app, db, a, b, single, revoked: revokedKey.key, throwawayKeyId: throwaway.keyId };
}

// ---- requests per operation ----------------------------------------------------------------------

const WEBHOOK = { url: 'http://127.0.0.1:9/hook', events: ['flag.raised'] };
/** What the projector queues when link_spam appears on an account (src/webhooks/events.ts). */
const FLAG_RAISED = {
  flag: 'link_spam',
  description: 'Most posts carry links.',
  thresholds: [{ metric: 'link_post_ratio', op: '>=', threshold: 0.8, actual: 1 }],
  spam_score: 0.8,
};

/** A minimal valid request of each operation; a new operation without one fails the matrix until it gets one. */
async function requestOf(w: World, op: Op): Promise<{ url: string; payload?: unknown; done?: () => Promise<unknown> }> {
  const values: Record<string, string> = { account: 'secret-a', name: w.b.workspace.name, key_id: w.throwawayKeyId };
  if (op.path.includes('{id}')) {
    // A subscription of A of its own for each call (a call may delete it), with one delivery queued.
    const created = await w.app.inject({ method: 'POST', url: '/v1/webhooks', headers: bearer(w.a.key), payload: WEBHOOK });
    values.id = created.json<{ id: string }>().id;
    values.delivery_id = deliveryId();
    await enqueueDeliveries(w.db, w.a.workspace.id, [{ id: values.delivery_id, webhookId: values.id, type: 'flag.raised', account: 'secret-a', data: FLAG_RAISED }]);
  }
  // Gone after the call, so that the matrix stays within a workspace's limit of subscriptions.
  const done = values.id === undefined ? undefined : () => w.app.inject({ method: 'DELETE', url: `/v1/webhooks/${values.id}`, headers: bearer(w.a.key) });
  let url = op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`${op.id}: no value for the path parameter {${name}}; add one to requestOf`);
    return encodeURIComponent(v);
  });
  const bodies: Record<string, unknown> = {
    ingestEvent: { type: 'like', actor: 'b-one', target: 'b-three', occurred_at: at(20) },
    ingestEvents: { events: [{ type: 'like', actor: 'b-two', target: 'b-three', occurred_at: at(21) }] },
    getScoresBatch: { accounts: ['secret-a', 'secret-b'] },
    createWorkspace: { name: unique('authz') },
    createKey: { scopes: ['scores:read'] },
    createWebhook: WEBHOOK,
    rotateWebhookSecret: { grace_seconds: 0 },
  };
  if (op.id === 'listAccounts') url += '?sort=followers&order=desc&limit=1000';
  if (!op.op.requestBody) return { url, done };
  const payload = op.id in bodies ? bodies[op.id] : op.op.requestBody.content['application/json']?.example;
  if (payload === undefined) throw new Error(`${op.id}: no request body; add one to requestOf`);
  return { url, payload, done };
}

// ---- the credentials -----------------------------------------------------------------------------

type Expect = { status: 401 | 403 | 404; code: 'missing_credentials' | 'invalid_key' | 'insufficient_scope' | 'webhook_not_found' } | 'success';

interface Credential {
  name: string;
  header: (w: World, op: Op) => string | undefined;
  /** The documented answer for an operation needing an API key with a scope / the admin token. */
  key: Expect;
  admin: Expect;
}

const MISSING = { status: 401, code: 'missing_credentials' } as const;
const INVALID = { status: 401, code: 'invalid_key' } as const;
const unknownKey = 'rpk_000000000000_' + 'A'.repeat(43);

const CREDENTIALS: Credential[] = [
  { name: 'no Authorization header', header: () => undefined, key: MISSING, admin: MISSING },
  { name: 'a bare "Bearer"', header: () => 'Bearer', key: MISSING, admin: MISSING },
  { name: 'Basic credentials', header: () => 'Basic x', key: MISSING, admin: MISSING },
  { name: 'a malformed key', header: () => 'Bearer rpk_bad', key: INVALID, admin: INVALID },
  { name: 'an unknown well-formed key', header: () => `Bearer ${unknownKey}`, key: INVALID, admin: INVALID },
  { name: 'a revoked key', header: (w) => `Bearer ${w.revoked}`, key: INVALID, admin: INVALID },
  {
    name: 'a key lacking the scope',
    // A key of A whose one scope grants nothing the operation accepts (every key grants one of them: none).
    header: (w, op) => `Bearer ${(w.single.find((k) => !op.scopes.includes(k.scope)) ?? w.single[0]!).key}`,
    key: { status: 403, code: 'insufficient_scope' },
    admin: INVALID,
  },
  { name: "another workspace's valid key", header: (w) => `Bearer ${w.b.key}`, key: 'success', admin: INVALID },
  { name: 'the admin token', header: () => `Bearer ${ADMIN_TOKEN}`, key: INVALID, admin: 'success' },
  { name: 'a wrong admin token', header: () => `Bearer ${WRONG_ADMIN_TOKEN}`, key: INVALID, admin: INVALID },
  { name: 'an API key of the workspace', header: (w) => `Bearer ${w.a.key}`, key: 'success', admin: INVALID },
];

// ---- the tests -----------------------------------------------------------------------------------

t.test('the committed document lists exactly the routes the app registers, each with its security', async (t) => {
  const { app } = await testApp(t, CONFIG);
  await app.ready();
  const served = [...servedRoutes(app)].filter((r) => !r.startsWith('HEAD ') && !HIDDEN(r.split(' ')[1]!)).sort();
  const documented = OPERATIONS.map((o) => `${o.method} ${o.path}`).sort();
  t.strictSame(served, documented, 'every registered route is documented, and every documented one is registered');
  t.ok(OPERATIONS.length >= 19, `${OPERATIONS.length} operations`);
  for (const op of OPERATIONS) {
    const where = `${op.method} ${op.path}`;
    t.ok(Array.isArray(op.op.security), `${where}: a security requirement is declared`);
    if (op.kind === 'public') t.ok(PUBLIC_OPERATIONS.has(op.id), `${where}: needs no credentials only if it is meant to (${[...PUBLIC_OPERATIONS].join(',')})`);
    if (op.kind === 'admin') t.match(op.path, /^\/v1\/admin\//, `${where}: the admin token guards admin routes only`);
    if (op.kind === 'key') t.notMatch(op.path, /^\/v1\/admin\//, `${where}: admin routes take the admin token`);
    if (op.kind === 'key') t.ok((SCOPES as readonly string[]).includes(op.scope!), `${where}: a known scope (${op.scope})`);
  }
  // Every route the app serves that is neither public nor hidden refuses a request without credentials,
  // whatever its document says: a route registered without a scope or the admin flag fails here.
  for (const route of servedRoutes(app)) {
    const [method, path] = route.split(' ') as [string, string];
    const documented = OPERATIONS.find((o) => o.method === (method === 'HEAD' ? 'GET' : method) && o.path === path);
    if (HIDDEN(path) || documented?.kind === 'public') continue;
    const url = path.replace(/\{\w+\}/g, 'x').replace('*', 'x');
    const res = await app.inject({ method: method as 'GET', url });
    t.equal(res.statusCode, 401, `${route} without credentials: 401`);
    if (method !== 'HEAD') assertProblem(t, res, 401, 'missing_credentials', `${route} without credentials`);
  }
});

t.test('every operation × every credential gives the documented answer', async (t) => {
  const w = await world(t);
  for (const op of OPERATIONS) {
    for (const cred of CREDENTIALS) {
      const { url, payload, done } = await requestOf(w, op);
      const header = cred.header(w, op);
      const res: Res = await w.app.inject({
        method: op.method as 'GET',
        url,
        headers: header === undefined ? {} : { authorization: header },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
      await done?.();
      const what = `${op.method} ${op.path} with ${cred.name}`;
      // An operation every scope grants has no key lacking its scope: that key succeeds. A
      // subscription of A is another workspace's to B: not found, as if it did not exist.
      const grantedToAll = op.scopes.length === SCOPES.length;
      const crossWorkspace = cred.name === "another workspace's valid key" && op.path.includes('{id}');
      const expected =
        op.kind === 'public'
          ? 'success'
          : op.kind === 'admin'
            ? cred.admin
            : cred.name === 'a key lacking the scope' && grantedToAll
              ? 'success'
              : crossWorkspace
                ? ({ status: 404, code: 'webhook_not_found' } as const)
                : cred.key;
      if (expected === 'success') {
        t.ok(res.statusCode >= 200 && res.statusCode < 300, `${what}: 2xx (got ${res.statusCode})`);
        t.notMatch(res.headers['content-type'], /problem/, `${what}: not a problem`);
      } else {
        assertProblem(t, res, expected.status, expected.code, what);
      }
    }
  }
});

t.test('health, readiness, the document and Swagger UI need no credentials', async (t) => {
  const { app } = await testApp(t, CONFIG);
  const publicUrls = [...OPERATIONS.filter((o) => o.kind === 'public').map((o) => o.path), ...UNDOCUMENTED_PUBLIC];
  t.ok(publicUrls.includes('/healthz') && publicUrls.includes('/readyz'), 'health and readiness are public operations');
  for (const url of publicUrls) {
    for (const authorization of [undefined, 'Bearer', 'Basic x', 'Bearer rpk_bad', `Bearer ${WRONG_ADMIN_TOKEN}`]) {
      const res = await app.inject({ method: 'GET', url, headers: authorization === undefined ? {} : { authorization } });
      t.equal(res.statusCode, 200, `GET ${url} with ${authorization ?? 'no Authorization header'}: 200`);
    }
  }
  t.match((await app.inject({ method: 'GET', url: '/docs/' })).headers['content-type'], /text\/html/, 'Swagger UI is HTML');
  t.equal((await app.inject({ method: 'GET', url: '/openapi.json' })).json().openapi, '3.1.0', 'the OpenAPI document');
});

t.test('metrics exist only with METRICS_TOKEN, and answer only its bearer', async (t) => {
  const without = await testApp(t, CONFIG);
  assertProblem(t, await without.app.inject({ method: 'GET', url: '/metrics' }), 404, 'not_found', 'no METRICS_TOKEN: no /metrics');
  const METRICS_TOKEN = 'm3tr1cs-9f8e7d6c5b4a39281706';
  const { app } = await testApp(t, { ...CONFIG, METRICS_TOKEN });
  for (const authorization of [undefined, 'Bearer', `Bearer ${WRONG_ADMIN_TOKEN}`, `Bearer ${ADMIN_TOKEN}`, `Basic ${METRICS_TOKEN}`]) {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: authorization === undefined ? {} : { authorization } });
    assertProblem(t, res, 401, 'invalid_key', `GET /metrics with ${authorization ?? 'no Authorization header'}`);
  }
  const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  t.equal(res.statusCode, 200, 'the metrics token reads them');
  t.match(res.headers['content-type'], /text\/plain/, 'metrics are Prometheus text');
  t.match(res.body, /rapport_events_total/, 'with the service’s own counters');
});

t.test('admin routes exist only when ADMIN_TOKEN is configured', async (t) => {
  const { app, tenant } = await tenantApp(t, { LOAD_SHED_EVENT_LOOP_DELAY_MS: 0 });
  const admin = OPERATIONS.filter((o) => o.kind === 'admin');
  t.ok(admin.length >= 4, `${admin.length} admin operations`);
  for (const op of admin) {
    const url = op.path.replace('{name}', tenant.workspace.name).replace('{key_id}', parseKey(tenant.readKey)!.keyId);
    for (const authorization of [undefined, `Bearer ${ADMIN_TOKEN}`, `Bearer ${tenant.key}`]) {
      const res = await app.inject({
        method: op.method as 'GET',
        url,
        headers: authorization === undefined ? {} : { authorization },
        ...(op.op.requestBody ? { payload: op.id === 'createKey' ? { scopes: ['scores:read'] } : { name: unique('never') } } : {}),
      });
      assertProblem(t, res, 404, 'not_found', `${op.method} ${op.path} without ADMIN_TOKEN, ${authorization ? 'with a bearer' : 'without credentials'}`);
    }
  }
  // The key the admin route would have revoked still works.
  const res = await app.inject({ method: 'GET', url: '/v1/accounts/x/scores', headers: bearer(tenant.readKey) });
  t.equal(res.statusCode, 200, 'nothing was revoked');
});

t.test("another workspace's key sees nothing of workspace A, and changes nothing of it", async (t) => {
  const w = await world(t);
  const { app, db, a, b } = w;
  const get = (key: string, url: string): Promise<Res> => app.inject({ method: 'GET', url, headers: bearer(key) });
  const countA = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE workspace_id = $1', [a.workspace.id]))[0]!.n;

  // Every per-account read of A's accounts, by A (must show the data, or the comparison proves nothing) and by B.
  const accountReads = OPERATIONS.filter((o) => o.kind === 'key' && o.method === 'GET' && o.path.includes('{account}'));
  t.ok(accountReads.length >= 8, `${accountReads.length} per-account reads`);
  const url = (op: Op, account: string) => op.path.replace('{account}', encodeURIComponent(account));
  const before = new Map<string, string>();
  for (const op of accountReads) {
    for (const account of ['secret-a', 'secret-b']) {
      const mine = await get(a.key, url(op, account));
      t.equal(mine.statusCode, 200, `A reads ${url(op, account)}`);
      before.set(url(op, account), mine.body);
      const nobody = unique('nobody');
      const baseline = await get(b.key, url(op, nobody));
      const theirs = await get(b.key, url(op, account));
      t.equal(theirs.statusCode, 200, `B reads ${url(op, account)}: 200, as for any unknown account`);
      t.not(theirs.body, mine.body, `B's answer for ${url(op, account)} differs from A's`);
      const others = SECRET_ACCOUNTS.filter((x) => x !== account);
      t.notOk(others.some((x) => theirs.body.includes(x)) || theirs.body.includes('secret.example'), `B's answer for ${url(op, account)} names none of A's other accounts`);
      // Exactly the answer for an account B has never heard of: zero counts, null ratios, empty lists.
      t.strictSame(theirs.json(), JSON.parse(baseline.body.replaceAll(nobody, account)), `B's answer for ${url(op, account)} is that of an unknown account`);
    }
  }
  // Spelled out for the scores: zero counts, null ratios.
  const scores = (await get(b.key, '/v1/accounts/secret-a/scores')).json();
  t.equal(scores.reciprocity.followers, 0, 'no followers');
  t.equal(scores.reciprocity.following, 0, 'no following');
  t.strictSame(scores.reciprocity.follow_back_rate, { value: null, numerator: 0, denominator: 0 }, 'a null ratio');
  t.equal(scores.engagement.interactions_received.total, 0, 'no interactions received');
  t.equal(scores.spam.posts, 0, 'no posts');
  for (const list of ['non-followers', 'fans', 'partners', 'follower-changes', 'unfollowers']) {
    t.strictSame((await get(b.key, `/v1/accounts/secret-a/${list}`)).json().items, [], `no ${list}`);
  }
  const hours = (await get(b.key, '/v1/accounts/secret-a/activity-hours')).json();
  t.ok(
    hours.hours.every((h: { interactions: number }) => h.interactions === 0),
    'no activity hours',
  );
  t.strictSame(hours.best_hours, [], 'no best hours');

  // The batch of scores, by B.
  const batch = await app.inject({ method: 'POST', url: '/v1/scores/batch', headers: bearer(b.key), payload: { accounts: ['secret-a', 'secret-b'] } });
  t.equal(batch.statusCode, 200, 'B reads a batch of scores');
  for (const r of batch.json().results) {
    t.equal(r.reciprocity.followers + r.reciprocity.following + r.engagement.interactions_received.total + r.spam.posts, 0, `${r.account}: all zero`);
  }
  t.notMatch(batch.body, /secret-[c-d]|secret\.example/, 'the batch names none of A’s other accounts');

  // The ranking, by B, by every order: none of A's accounts.
  for (const query of ['', '?sort=followers', '?sort=followers&order=asc', '?sort=posts&limit=1000', '?min_followers=0&order=asc']) {
    const ranking = await get(b.key, `/v1/accounts${query}`);
    t.equal(ranking.statusCode, 200, `B ranks /v1/accounts${query}`);
    const listed = ranking.json().items.map((i: { account: string }) => i.account);
    t.ok(listed.length > 0, `B's ranking${query} lists B's own accounts`);
    t.notOk(
      listed.some((x: string) => SECRET_ACCOUNTS.includes(x)),
      `B's ranking${query} lists none of A's accounts`,
    );
  }
  const rankingA = (await get(a.key, '/v1/accounts?limit=1000')).json().items.map((i: { account: string }) => i.account);
  t.ok(
    SECRET_ACCOUNTS.every((x) => rankingA.includes(x)),
    "A's own ranking lists its accounts",
  );
  t.notOk(
    rankingA.some((x: string) => x.startsWith('b-')),
    "A's ranking lists none of B's accounts",
  );

  // Erasure by B of A's account deletes nothing of A.
  const eventsBefore = await countA();
  t.equal(eventsBefore, SECRET_EVENTS.length, 'A holds its events');
  const del = await app.inject({ method: 'DELETE', url: '/v1/accounts/secret-a', headers: bearer(b.key) });
  t.equal(del.statusCode, 200, 'B may erase secret-a in its own workspace');
  t.strictSame(del.json(), { account: 'secret-a', events_deleted: 0 }, 'and it deletes 0 events');
  t.equal(await countA(), eventsBefore, "A's events are intact");
  // Ids are unique per workspace: B may reuse A's ids and A's content, and learns nothing from the answer.
  const reuse = await app.inject({ method: 'POST', url: '/v1/events', headers: bearer(b.key), payload: { ...SECRET_EVENTS[0]!, actor: 'b-one' } });
  t.equal(reuse.statusCode, 201, "B reusing one of A's ids with other content is accepted, not id_conflict");
  const { id: _id, ...sameContent } = SECRET_EVENTS[8]!;
  const copy = await app.inject({ method: 'POST', url: '/v1/events', headers: bearer(b.key), payload: sameContent });
  t.equal(copy.statusCode, 201, "B sending content identical to A's event is accepted, not a duplicate");
  const erase = await app.inject({ method: 'DELETE', url: '/v1/accounts/secret-b', headers: bearer(b.key) });
  t.strictSame(erase.json(), { account: 'secret-b', events_deleted: 1 }, "B's erasure of secret-b deletes only the event B sent");
  t.equal(await countA(), eventsBefore, "A's events are still intact");
  for (const [u, body] of before) t.equal((await get(a.key, u)).body, body, `A's ${u} is unchanged`);
});
