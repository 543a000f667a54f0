import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t, { type Test } from 'tap';
import { createKey } from '../../src/db/workspaces.js';
import { at, bearer, newTenant, projected, testApp, type Tenant, type TestApp } from '../helpers.js';
import { receiver, until } from './fixtures.js';

/** Receivers on loopback, so the app runs with WEBHOOK_ALLOW_PRIVATE; small backoffs keep retries quick. */
const SENDING = {
  WEBHOOK_SENDER: true,
  WEBHOOK_ALLOW_PRIVATE: true,
  WEBHOOK_POLL_MS: 20,
  WEBHOOK_BACKOFF_MS: 50,
  WEBHOOK_BACKOFF_MAX_MS: 200,
  WEBHOOK_TIMEOUT_MS: 2_000,
} as const;

/** The receiver of docs/integration.md, run as it is written there. */
async function docsReceiver(t: Test): Promise<(secret: string, header: string, body: string, now?: number) => boolean> {
  const doc = readFileSync(new URL('../../docs/integration.md', import.meta.url), 'utf8');
  const block = /```js\n(import \{ createHmac[\s\S]*?verifyRapportSignature[\s\S]*?)```/.exec(doc);
  t.ok(block, 'docs/integration.md shows the receiver');
  t.ok(block![1]!.trim().split('\n').length <= 10, 'in ten lines');
  const dir = mkdtempSync(join(tmpdir(), 'rapport-receiver-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'verify.mjs');
  writeFileSync(file, block![1]!);
  return ((await import(pathToFileURL(file).href)) as { verifyRapportSignature: never }).verifyRapportSignature;
}

interface Setup extends TestApp {
  tenant: Tenant;
  hookKey: string;
}

async function setup(t: Test, overrides: Record<string, unknown> = SENDING): Promise<Setup> {
  const ta = await testApp(t, overrides);
  const tenant = await newTenant(ta.db);
  const hookKey = (await createKey(ta.db, tenant.workspace, ['webhooks:manage'])).key;
  return { ...ta, tenant, hookKey };
}

async function subscribe(s: Setup, body: Record<string, unknown>) {
  const res = await s.app.inject({ method: 'POST', url: '/v1/webhooks', headers: bearer(s.hookKey), payload: body });
  return { res, json: res.json() };
}

async function send(s: Setup, events: Record<string, unknown>[]) {
  const res = await s.app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(s.tenant.writeKey), payload: { events } });
  if (res.statusCode !== 200 || res.json().accepted !== events.length) throw new Error(`ingest failed: ${res.body}`);
  await projected(s.db, s.tenant.workspace.id);
}

/** `n` posts by `actor` at minutes `from`…, links or not: five link posts raise link_spam, plain ones can clear it. */
const posts = (actor: string, n: number, link: boolean, from: number) =>
  Array.from({ length: n }, (_, i) => ({ type: 'post', actor, occurred_at: at(from + i), has_link: link, id: `${actor}-${link}-${from + i}` }));

t.test('a flag raised, then cleared, arrives as two signed deliveries the documented receiver verifies', async (t) => {
  const s = await setup(t);
  const verify = await docsReceiver(t);
  const rx = await receiver(t);
  const { res, json: hook } = await subscribe(s, { url: rx.url, events: ['flag.raised', 'flag.cleared'] });
  t.equal(res.statusCode, 201);
  t.match(hook, { id: /^wh_[0-9a-f]{20}$/, url: rx.url, events: ['flag.cleared', 'flag.raised'], thresholds: {}, previous_secret_expires_at: null, secret: /^whsec_/ });

  await send(s, posts('tw:spammer', 5, true, 0));
  t.ok(await until(() => rx.accepted().length === 1), 'the raise is delivered');
  await send(s, posts('tw:spammer', 2, false, 10));
  t.ok(await until(() => rx.accepted().length === 2), 'the clearing is delivered');

  const [raised, cleared] = rx.accepted();
  t.match(raised!.json, {
    id: /^whd_[0-9a-f]{24}$/,
    type: 'flag.raised',
    workspace: s.tenant.workspace.name,
    account: 'tw:spammer',
    occurred_at: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/,
    data: {
      flag: 'link_spam',
      thresholds: [
        { metric: 'posts', op: '>=', threshold: 5, actual: 5 },
        { metric: 'link_post_ratio', op: '>=', threshold: 0.8, actual: 1 },
        { metric: 'question_ratio', op: '<=', threshold: 0.1, actual: 0 },
      ],
      // link_spam alone at full strength: its weight.
      spam_score: 0.8,
    },
  });
  t.strictSame(Object.keys(raised!.json), ['id', 'type', 'workspace', 'account', 'occurred_at', 'data']);
  // 5 link posts of 7: link_spam's strength is 5/7, so the score is 0.8 · 5/7, rounded to 6 places.
  t.match(cleared!.json, { type: 'flag.cleared', account: 'tw:spammer', data: { flag: 'link_spam', spam_score: 0.571429 } });
  for (const r of rx.accepted()) {
    const header = String(r.headers['rapport-signature']);
    t.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);
    t.ok(verify(hook.secret, header, r.body), 'the documented receiver accepts it');
    t.notOk(verify(hook.secret, header, r.body.replace('tw:spammer', 'tw:someone')), 'and refuses a changed body');
    t.notOk(verify(`${hook.secret}x`, header, r.body), 'or another secret');
    t.notOk(verify(hook.secret, header, r.body, Date.now() + 10 * 60_000), 'or a signature 10 minutes old');
    t.equal(r.headers['content-type'], 'application/json');
  }
  t.ok(
    s.logs.every((l) => !l.includes(hook.secret) && !l.includes(hook.secret.slice(6))),
    'the secret is never logged',
  );
});

t.test('a flag raised and cleared within one batch sends nothing; a threshold crossed and crossed back neither', async (t) => {
  const s = await setup(t);
  const rx = await receiver(t);
  await subscribe(s, { url: rx.url, events: ['flag.raised', 'flag.cleared', 'score.crossed'], thresholds: { link_post_ratio: 0.8, posts: 3 } });
  // One batch: 5 link posts and 2 plain ones. After it: 7 posts (posts crossed 3), link ratio 5/7 < 0.8, no flag.
  await send(s, [...posts('tw:quiet', 5, true, 0), ...posts('tw:quiet', 2, false, 10)]);
  t.ok(await until(() => rx.requests.length === 1), 'one delivery');
  await new Promise((r) => setTimeout(r, 300));
  t.strictSame(
    rx.requests.map((r) => [r.json.type, r.json.data]),
    [['score.crossed', { metric: 'posts', threshold: 3, direction: 'up', before: 0, after: 7 }]],
    'only posts, which stayed above its threshold',
  );
});

t.test('score.crossed either way, and in order per account after a receiver comes back', async (t) => {
  const s = await setup(t);
  let down = true;
  const rx = await receiver(t, () => (down ? 503 : 200));
  const { json: hook } = await subscribe(s, { url: rx.url, events: ['score.crossed'], thresholds: { link_post_ratio: 0.8 } });
  // Three batches per account: up (5 link posts, ratio 1), down (2 plain posts, 5/7), up again (5 more link posts, 10/12).
  for (const account of ['tw:a', 'tw:b']) {
    await send(s, posts(account, 5, true, 0));
    await send(s, posts(account, 2, false, 10));
    await send(s, posts(account, 5, true, 20));
  }
  t.ok(await until(() => rx.requests.length >= 6), 'the receiver is tried while down');
  t.same(
    [...new Set(rx.requests.map((r) => `${String(r.json.data.direction)}${String(r.json.account)}`))].sort(),
    ['uptw:a', 'uptw:b'],
    'while the first delivery of each account fails, the later ones wait behind it',
  );
  down = false;
  t.ok(await until(() => rx.accepted().length === 6), 'every delivery arrives once the receiver is back');
  for (const account of ['tw:a', 'tw:b']) {
    t.strictSame(
      rx
        .accepted()
        .filter((r) => r.json.account === account)
        .map((r) => [r.json.data.direction, r.json.data.before, r.json.data.after]),
      [
        ['up', null, 1],
        ['down', 1, 0.714286],
        ['up', 0.714286, 0.833333],
      ],
      `${account}: in order`,
    );
  }
  // The log: every attempt of the first delivery, failures then the success. The receiver counts a
  // request before it answers, the sender records the answer after, so the log may lag a moment.
  type Item = { id: string; account: string; status: string; attempts: { status_code: number; error: string | null }[] };
  let items: Item[] = [];
  const settled = await until(async () => {
    const log = await s.app.inject({ method: 'GET', url: `/v1/webhooks/${hook.id}/deliveries?limit=100`, headers: bearer(s.hookKey) });
    items = log.statusCode === 200 ? (log.json().items as Item[]) : [];
    return items.length === 6 && items.every((d) => d.status === 'delivered');
  });
  t.ok(settled, `the log shows the 6 deliveries delivered: ${JSON.stringify(items.map((d) => d.status))}`);
  const first = items.filter((d) => d.account === 'tw:a').at(-1)!;
  t.ok(first.attempts.length >= 2, 'the first delivery was attempted more than once');
  t.strictSame(
    first.attempts.map((a) => a.status_code),
    [...first.attempts.slice(0, -1).map(() => 503), 200],
  );
  t.equal(rx.requests.filter((r) => r.json.id === first.id).length, first.attempts.length, 'the log holds every attempt the receiver saw');
});

t.test('workspace A’s subscription never sees workspace B’s events, and B cannot see or touch A’s subscription', async (t) => {
  const a = await setup(t);
  const b = { ...a, tenant: await newTenant(a.db) };
  b.hookKey = (await createKey(a.db, b.tenant.workspace, ['webhooks:manage'])).key;
  const rx = await receiver(t);
  const { json: hook } = await subscribe(a, { url: rx.url, events: ['flag.raised'] });
  await send(b, posts('tw:shared', 5, true, 0));
  await send(a, posts('tw:other', 5, true, 0));
  t.ok(await until(() => rx.requests.length >= 1));
  await new Promise((r) => setTimeout(r, 300));
  t.strictSame(
    rx.requests.map((r) => [r.json.workspace, r.json.account]),
    [[a.tenant.workspace.name, 'tw:other']],
  );
  t.strictSame((await b.app.inject({ method: 'GET', url: '/v1/webhooks', headers: bearer(b.hookKey) })).json(), { webhooks: [] });
  for (const [method, url] of [
    ['DELETE', `/v1/webhooks/${hook.id}`],
    ['POST', `/v1/webhooks/${hook.id}/rotate-secret`],
    ['GET', `/v1/webhooks/${hook.id}/deliveries`],
  ] as const) {
    const res = await b.app.inject({ method, url, headers: bearer(b.hookKey) });
    t.equal(res.statusCode, 404, `${method} ${url}`);
    t.equal(res.json().code, 'webhook_not_found');
  }
});

t.test('private, loopback and link-local targets are refused without WEBHOOK_ALLOW_PRIVATE, and so is plain http', async (t) => {
  const s = await setup(t, {});
  for (const url of [
    'https://127.0.0.1/hook',
    'https://10.1.2.3/x',
    'https://169.254.169.254/latest',
    'https://[::1]/x',
    'https://[fe80::1]/x',
    'https://[::ffff:192.168.0.1]/x',
    'https://localhost/x',
  ]) {
    const { res, json } = await subscribe(s, { url, events: ['flag.raised'] });
    t.equal(res.statusCode, 400, url);
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.match(json, { code: 'webhook_target_refused', errors: [{ field: 'url' }] }, url);
  }
  const http = await subscribe(s, { url: 'http://93.184.215.14/hook', events: ['flag.raised'] });
  t.match(http.json, { status: 400, code: 'validation_failed', errors: [{ field: 'url', message: 'must be an https:// URL' }] });
  const creds = await subscribe(s, { url: 'https://user:pw@93.184.215.14/hook', events: ['flag.raised'] });
  t.match(creds.json, { code: 'validation_failed', errors: [{ field: 'url', message: /credentials/ }] });
  const ok = await subscribe(s, { url: 'https://93.184.215.14/hook', events: ['flag.raised'] });
  t.equal(ok.res.statusCode, 201, 'a public address is accepted');
});

t.test('request validation: event kinds, thresholds and their ranges, limits', async (t) => {
  const s = await setup(t, {});
  const url = 'https://93.184.215.14/hook';
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ url, events: [] }, 'events', /.+/],
    [{ url, events: ['flag.lowered'] }, 'events.0', /.+/],
    [{ url, events: ['score.crossed'] }, 'thresholds', /at least one threshold/],
    [{ url, events: ['flag.raised'], thresholds: { spam_score: 0.5 } }, 'thresholds', /score.crossed/],
    [{ url, events: ['score.crossed'], thresholds: { spam_score: 1.5 } }, 'thresholds.spam_score', /\[0, 1\]/],
    [{ url, events: ['score.crossed'], thresholds: { follow_churn_ratio: 2 } }, 'thresholds.follow_churn_ratio', /\[0, 1\]/],
    [{ url, events: ['score.crossed'], thresholds: { spam_scor: 0.5 } }, 'thresholds', /.+/],
    [{ url, events: ['score.crossed'], thresholds: { followers: -1 } }, 'thresholds.followers', /.+/],
    [{ url: `https://example.com/${'x'.repeat(2100)}`, events: ['flag.raised'] }, 'url', /.+/],
    [{ url: 'not a url', events: ['flag.raised'] }, 'url', /absolute URL/],
    [{ url, events: ['flag.raised'], secret: 'mine' }, 'secret', /unknown field/],
  ];
  for (const [body, field, message] of cases) {
    const { res, json } = await subscribe(s, body);
    t.equal(res.statusCode, 400, JSON.stringify(body).slice(0, 80));
    t.match(json, { code: 'validation_failed', errors: [{ field: field.includes('.') || field === 'url' ? field : new RegExp(`^${field}`), message }] }, field);
  }
  const quotient = await subscribe(s, { url, events: ['score.crossed'], thresholds: { following_to_followers: 3, followers: 1000 } });
  t.equal(quotient.res.statusCode, 201, 'a quotient and a count take thresholds above 1');
  for (let i = 1; i < 20; i++) t.equal((await subscribe(s, { url, events: ['flag.raised'] })).res.statusCode, 201);
  const over = await subscribe(s, { url, events: ['flag.raised'] });
  t.equal(over.res.statusCode, 409);
  t.equal(over.json.code, 'webhook_limit_reached');
  t.equal((await s.app.inject({ method: 'GET', url: '/v1/webhooks', headers: bearer(s.hookKey) })).json().webhooks.length, 20);
});

t.test('scopes: only a key with webhooks:manage manages webhooks, and new keys do not get it unless asked', async (t) => {
  const s = await setup(t, { ...SENDING, ADMIN_TOKEN: 'f3a9c81d0b7e45a2c6d9e1f0b3a7c5d8e2f4a6b1' });
  for (const key of [s.tenant.key, s.tenant.readKey, s.tenant.writeKey]) {
    for (const [method, url] of [
      ['GET', '/v1/webhooks'],
      ['POST', '/v1/webhooks'],
      ['DELETE', '/v1/webhooks/wh_00000000000000000000'],
      ['POST', '/v1/webhooks/wh_00000000000000000000/rotate-secret'],
      ['GET', '/v1/webhooks/wh_00000000000000000000/deliveries'],
      ['POST', '/v1/webhooks/wh_00000000000000000000/deliveries/whd_000000000000000000000000/redeliver'],
    ] as const) {
      const res = await s.app.inject({ method, url, headers: bearer(key), ...(method === 'POST' ? { payload: {} } : {}) });
      t.equal(res.statusCode, 403, `${method} ${url}`);
      t.equal(res.json().code, 'insufficient_scope');
    }
  }
  t.equal((await s.app.inject({ method: 'GET', url: '/v1/webhooks' })).statusCode, 401);
  const created = await s.app.inject({
    method: 'POST',
    url: `/v1/admin/workspaces/${s.tenant.workspace.name}/keys`,
    headers: bearer('f3a9c81d0b7e45a2c6d9e1f0b3a7c5d8e2f4a6b1'),
    payload: {},
  });
  t.strictSame(created.json().scopes, ['events:write', 'scores:read'], 'a key made without scopes cannot manage webhooks');
  const asked = await s.app.inject({
    method: 'POST',
    url: `/v1/admin/workspaces/${s.tenant.workspace.name}/keys`,
    headers: bearer('f3a9c81d0b7e45a2c6d9e1f0b3a7c5d8e2f4a6b1'),
    payload: { scopes: ['webhooks:manage'] },
  });
  t.equal((await s.app.inject({ method: 'GET', url: '/v1/webhooks', headers: bearer(asked.json().key) })).statusCode, 200);
});

t.test('rotation: the new secret signs, the previous one too during the grace period, then only the new one', async (t) => {
  const s = await setup(t);
  const verify = await docsReceiver(t);
  const rx = await receiver(t);
  const { json: hook } = await subscribe(s, { url: rx.url, events: ['flag.raised', 'flag.cleared'] });
  const rotated = await s.app.inject({ method: 'POST', url: `/v1/webhooks/${hook.id}/rotate-secret`, headers: bearer(s.hookKey) });
  t.equal(rotated.statusCode, 200);
  const withGrace = rotated.json();
  t.match(withGrace, { id: hook.id, secret: /^whsec_/, previous_secret_expires_at: /^\d{4}-/ });
  t.not(withGrace.secret, hook.secret);
  t.ok(Math.abs(Date.parse(withGrace.previous_secret_expires_at) - Date.now() - 86_400_000) < 60_000, 'one day by default');
  await send(s, posts('tw:r', 5, true, 0));
  t.ok(await until(() => rx.accepted().length === 1));
  const first = rx.accepted()[0]!;
  t.match(String(first.headers['rapport-signature']), /^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/, 'two signatures');
  t.ok(verify(withGrace.secret, String(first.headers['rapport-signature']), first.body), 'the new secret verifies');
  t.ok(verify(hook.secret, String(first.headers['rapport-signature']), first.body), 'so does the previous one');

  const now = await s.app.inject({ method: 'POST', url: `/v1/webhooks/${hook.id}/rotate-secret`, headers: bearer(s.hookKey), payload: { grace_seconds: 0 } });
  t.match(now.json(), { previous_secret_expires_at: null });
  await send(s, posts('tw:r', 2, false, 10));
  t.ok(await until(() => rx.accepted().length === 2));
  const second = rx.accepted()[1]!;
  t.match(String(second.headers['rapport-signature']), /^t=\d+,v1=[0-9a-f]{64}$/, 'one signature');
  t.ok(verify(now.json().secret, String(second.headers['rapport-signature']), second.body));
  t.notOk(verify(withGrace.secret, String(second.headers['rapport-signature']), second.body), 'the retired secret no longer verifies');
  t.notOk(JSON.stringify((await s.app.inject({ method: 'GET', url: '/v1/webhooks', headers: bearer(s.hookKey) })).json()).includes('whsec_'), 'listing never shows a secret');
});

t.test('redelivery sends a delivered event again with the same id; the log pages newest first; deleting stops deliveries', async (t) => {
  const s = await setup(t);
  const rx = await receiver(t);
  const { json: hook } = await subscribe(s, { url: rx.url, events: ['score.crossed'], thresholds: { posts: 1 } });
  for (let i = 0; i < 5; i++) await send(s, posts(`tw:p${i}`, 1, false, 0));
  t.ok(await until(() => rx.accepted().length === 5));
  const page = async (cursor?: string) =>
    (
      await s.app.inject({
        method: 'GET',
        url: `/v1/webhooks/${hook.id}/deliveries?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        headers: bearer(s.hookKey),
      })
    ).json();
  const pages = [await page()];
  while (pages.at(-1).next_cursor) pages.push(await page(pages.at(-1).next_cursor));
  t.strictSame(
    pages.map((p) => p.items.length),
    [2, 2, 1],
  );
  const accounts = pages.flatMap((p) => p.items.map((d: { account: string }) => d.account));
  t.strictSame(accounts, ['tw:p4', 'tw:p3', 'tw:p2', 'tw:p1', 'tw:p0'], 'newest first, each once');
  // Its first character changed, whatever it was (a last base64url character may carry unused bits).
  const tampered = (c: string) => (c.startsWith('A') ? 'B' : 'A') + c.slice(1);
  const bad = await s.app.inject({
    method: 'GET',
    url: `/v1/webhooks/${hook.id}/deliveries?cursor=${encodeURIComponent(tampered(pages[1].next_cursor))}`,
    headers: bearer(s.hookKey),
  });
  t.equal(bad.json().code, 'invalid_cursor');

  const target = pages[0].items[1];
  const again = await s.app.inject({ method: 'POST', url: `/v1/webhooks/${hook.id}/deliveries/${target.id}/redeliver`, headers: bearer(s.hookKey) });
  t.equal(again.statusCode, 202);
  t.match(again.json(), { id: target.id, status: 'pending', attempts: [{ attempt: 1, status_code: 200 }] });
  t.ok(await until(() => rx.accepted().length === 6), 'sent again');
  t.equal(rx.accepted()[5]!.json.id, target.id, 'with the same id');
  t.equal(
    rx.accepted()[5]!.body.replace(/"occurred_at":"[^"]+"/, ''),
    rx
      .accepted()
      .find((r) => r.json.id === target.id)!
      .body.replace(/"occurred_at":"[^"]+"/, ''),
  );
  const missing = await s.app.inject({ method: 'POST', url: `/v1/webhooks/${hook.id}/deliveries/whd_000000000000000000000000/redeliver`, headers: bearer(s.hookKey) });
  t.equal(missing.json().code, 'delivery_not_found');

  const deleted = await s.app.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: bearer(s.hookKey) });
  t.equal(deleted.statusCode, 200);
  t.equal(deleted.json().id, hook.id);
  await send(s, posts('tw:late', 1, false, 0));
  await new Promise((r) => setTimeout(r, 300));
  t.equal(rx.requests.length, 6, 'nothing more is sent');
  const [row] = await s.db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_deliveries WHERE workspace_id = $1', [s.tenant.workspace.id]);
  t.equal(row!.n, 0, 'its deliveries are gone with it');
  t.equal((await s.app.inject({ method: 'DELETE', url: `/v1/webhooks/${hook.id}`, headers: bearer(s.hookKey) })).statusCode, 404);
});

t.test('without subscriptions the projector queues nothing and reads no before-state', async (t) => {
  const s = await setup(t, {});
  await send(s, posts('tw:none', 5, true, 0));
  const [row] = await s.db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_deliveries WHERE workspace_id = $1', [s.tenant.workspace.id]);
  t.equal(row!.n, 0);
});
