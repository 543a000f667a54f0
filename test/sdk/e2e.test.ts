import { Rapport, RapportError, retryAfterSeconds, type EventInput } from '@rapport/sdk';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import t, { type Test } from 'tap';
import { contractViolation, SEEN } from '../contract.js';
import { secretOf, tenantApp, testApp, unique } from '../helpers.js';

/**
 * The service on loopback, driven only through the built SDK package (@rapport/sdk, sdk/dist):
 * every operation of the document, the NDJSON stream, pagination and problem errors. Every answer
 * the SDK receives is checked against the committed document as well.
 */

/** A fetch that checks each answer against openapi/openapi.json before the SDK sees it. */
function checkedFetch(t: Test) {
  return async (request: Request) => {
    const method = request.method;
    const url = request.url;
    const response = await fetch(request);
    const body = await response.clone().text();
    const violation = contractViolation({ method, url, status: response.status, contentType: response.headers.get('content-type') ?? undefined, body });
    if (violation) t.fail(`the answer is not what openapi/openapi.json documents: ${violation}`);
    return response;
  };
}

const OPERATIONS = [
  'getHealth',
  'getReadiness',
  'createWorkspace',
  'createKey',
  'listKeys',
  'revokeKey',
  'ingestEvent',
  'ingestEvents',
  'getScores',
  'getReciprocity',
  'getEngagement',
  'getSpam',
  'getScoresBatch',
  'listAccounts',
  'listNonFollowers',
  'listFans',
  'listPartners',
  'getActivityHours',
  'listFollowerChanges',
  'listUnfollowers',
  'deleteAccount',
] as const;

t.test('every operation works through the SDK package', async (t) => {
  const ADMIN_TOKEN = 'sdk-test-admin-token-0123456789';
  const { app } = await testApp(t, { ADMIN_TOKEN });
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const fetch = checkedFetch(t);
  const admin = new Rapport({ baseUrl, key: ADMIN_TOKEN, fetch });
  const name = unique('sdk');
  for (const op of OPERATIONS) t.equal(typeof admin[op], 'function', `${op} is a method`);

  t.same(await admin.getHealth(), { status: 'ok' });
  t.same(await admin.getReadiness(), { status: 'ok' });

  const ws = await admin.createWorkspace(name);
  t.equal(ws.name, name);
  t.equal(ws.created, true);
  t.equal((await admin.createWorkspace(name)).created, false, 'idempotent');

  const created = await admin.createKey(name, ['events:write', 'scores:read']);
  const key = created.key;
  const spare = await admin.createKey(name, ['scores:read']);
  const listed = await admin.listKeys(name);
  t.equal(listed.length, 2);
  t.notOk(JSON.stringify(listed).includes(secretOf(key)), 'no secret in the listing');
  const revoked = await admin.revokeKey(spare.key_id);
  t.type(revoked.revoked_at, 'string');

  const rapport = new Rapport({ baseUrl, key, fetch });
  t.same(await rapport.ingestEvent({ id: 'e1', type: 'follow', actor: 'tw:alice', target: 'tw:bob', occurred_at: '2026-11-20T10:00:00Z' }), {
    id: 'e1',
    status: 'accepted',
  });
  t.same(await rapport.ingestEvent({ id: 'e1', type: 'follow', actor: 'tw:alice', target: 'tw:bob', occurred_at: '2026-11-20T10:00:00Z' }), {
    id: 'e1',
    status: 'duplicate',
  });
  const batch = await rapport.ingestEvents([
    { type: 'follow', actor: 'tw:bob', target: 'tw:alice', occurred_at: '2026-11-20T10:01:00Z' },
    { type: 'reply', actor: 'tw:bob', target: 'tw:alice', occurred_at: '2026-11-20T10:02:00Z', text: 'Chapter 3?' },
    { type: 'mention', actor: 'tw:alice', target: 'tw:bob', occurred_at: '2026-11-20T11:00:00Z' },
    { type: 'like', actor: 'tw:carol', target: 'tw:alice', occurred_at: '2026-11-20T12:00:00Z' },
  ]);
  t.same(batch, { accepted: 4, duplicates: 0, rejected: [], rejected_total: 0 });

  // The NDJSON form, from an async generator: events and raw JSON lines alike, one of them invalid.
  async function* stream(): AsyncGenerator<EventInput | string> {
    yield { type: 'follow', actor: 'tw:alice', target: 'tw:dave', occurred_at: '2026-11-20T12:30:00Z' };
    yield '{"type":"post","actor":"tw:alice","occurred_at":"2026-11-20T13:00:00Z","text":"New post https://x.test"}';
    yield { type: 'follow', actor: 'tw:erin', occurred_at: '2026-11-20T13:30:00Z' };
    for (let i = 0; i < 3; i++) yield { type: 'follow', actor: `tw:fan${i}`, target: 'tw:alice', occurred_at: '2026-11-20T14:00:00Z' };
  }
  const streamed = await rapport.ingestStream(stream());
  t.same(streamed, {
    accepted: 5,
    duplicates: 0,
    rejected: [{ index: 2, code: 'invalid_event', message: 'target: required for type follow' }],
    rejected_total: 1,
  });

  const scores = await rapport.getScores('tw:alice');
  t.match(scores.reciprocity, { followers: 4, following: 2, mutual: 1, response_rate: { value: 1, numerator: 1, denominator: 1 } });
  t.equal(scores.engagement.interactions_received.total, 2);
  t.equal(scores.spam.posts, 1);
  const windowed = await rapport.getReciprocity('tw:alice', { since: '2026-11-20T11:30:00Z', churn_hours: 24 });
  t.same(windowed.window, { since: '2026-11-20T11:30:00.000000Z', until: null, churn_hours: 24 });
  t.equal(windowed.reciprocity.partners_engaging, 1);
  t.equal((await rapport.getEngagement('tw:alice')).engagement.engaged_followers, 1);
  t.equal((await rapport.getSpam('tw:alice')).spam.link_post_ratio.value, 1);

  const many = await rapport.getScoresBatch({ accounts: ['tw:alice', 'tw:nobody'] });
  t.same(
    many.results.map((r) => [r.account, r.reciprocity.followers]),
    [
      ['tw:alice', 4],
      ['tw:nobody', 0],
    ],
  );

  // Pagination: page by page with the cursor, and through the iterator.
  const first = await rapport.listAccounts({ sort: 'followers', limit: 2 });
  t.equal(first.items.length, 2);
  t.type(first.next_cursor, 'string');
  const second = await rapport.listAccounts({ sort: 'followers', limit: 2, cursor: first.next_cursor! });
  t.equal(second.items.length, 2);
  const everyone: string[] = [];
  for await (const account of rapport.allAccounts({ sort: 'followers', limit: 2 })) everyone.push(account.account);
  t.equal(everyone[0], 'tw:alice', 'most followers first');
  t.equal(new Set(everyone).size, everyone.length, 'no account twice');
  t.ok(everyone.length >= 7, `${everyone.length} accounts over several pages`);

  t.same(
    (await rapport.listNonFollowers('tw:alice')).items.map((i) => i.account),
    ['tw:dave'],
  );
  const fans: string[] = [];
  for await (const fan of rapport.allFans('tw:alice', { limit: 1 })) fans.push(fan.account);
  t.same(fans, ['tw:fan0', 'tw:fan1', 'tw:fan2']);
  t.same((await rapport.listFans('tw:bob')).items, []);
  const nonFollowers = [];
  for await (const n of rapport.allNonFollowers('tw:alice')) nonFollowers.push(n.account);
  t.same(nonFollowers, ['tw:dave']);
  const partners = await rapport.listPartners('tw:alice');
  t.same(
    partners.items.map((p) => [p.account, p.exchange]),
    [
      ['tw:bob', 1],
      ['tw:carol', 0],
    ],
  );
  const allPartners = [];
  for await (const p of rapport.allPartners('tw:alice', { limit: 1 })) allPartners.push(p.account);
  t.same(allPartners, ['tw:bob', 'tw:carol']);
  const hours = await rapport.getActivityHours('tw:alice', { tz: 'Europe/Paris' });
  t.equal(hours.hours.length, 168);
  t.same(
    hours.best_hours.map((h) => [h.weekday, h.hour]),
    [
      ['friday', 11],
      ['friday', 13],
    ],
  );

  // fan0 unfollows an hour after following; alice follows none of her fans back.
  await rapport.ingestEvent({ type: 'unfollow', actor: 'tw:fan0', target: 'tw:alice', occurred_at: '2026-11-20T15:00:00Z' });
  const changes = await rapport.listFollowerChanges('tw:alice', { limit: 1 });
  t.same(changes.items, [{ account: 'tw:fan0', change: 'unfollow', at: '2026-11-20T15:00:00.000000Z', followed_for_seconds: 3600, followed_back: false, quick: true }]);
  const allChanges: string[] = [];
  for await (const c of rapport.allFollowerChanges('tw:alice', { limit: 2 })) allChanges.push(`${c.change} ${c.account} ${c.followed_back}`);
  // bob followed alice a minute after she followed him.
  t.same(allChanges, ['unfollow tw:fan0 false', 'follow tw:fan2 false', 'follow tw:fan1 false', 'follow tw:fan0 false', 'follow tw:bob true']);
  t.same(
    (await rapport.listFollowerChanges('tw:alice', { change: 'unfollow', churn_hours: 1 })).items.map((c) => c.quick),
    [true],
  );
  const unfollowers: string[] = [];
  for await (const u of rapport.allUnfollowers('tw:alice', { limit: 1 })) unfollowers.push(u.account);
  t.same(unfollowers, ['tw:fan0']);
  t.same((await rapport.listUnfollowers('tw:bob')).items, []);

  // Problems are thrown as RapportError, with the stable code and each offending field.
  const invalid = await rapport.getScores('tw:alice', { churn_hours: 0 }).catch((e: unknown) => e);
  t.ok(invalid instanceof RapportError);
  t.match(invalid, { status: 400, code: 'validation_failed', errors: [{ field: 'querystring.churn_hours' }] });
  const forged = await rapport.listAccounts({ cursor: 'bm90LWEtY3Vyc29y.AAAA' }).catch((e: unknown) => e);
  t.match(forged, { status: 400, code: 'invalid_cursor' });
  const unauthorised = await new Rapport({ baseUrl, key: 'rpk_000000000000_nope', fetch }).getScores('tw:alice').catch((e: unknown) => e);
  t.match(unauthorised, { status: 401, code: 'invalid_key' });
  const missing = await admin.createKey(unique('missing')).catch((e: unknown) => e);
  t.match(missing, { status: 404, code: 'workspace_not_found' });

  t.same(await rapport.deleteAccount('tw:carol'), { account: 'tw:carol', events_deleted: 1 });
  t.equal((await rapport.getEngagement('tw:alice')).engagement.interactions_received.total, 1, 'carol’s like is gone');

  const documented = [...SEEN].filter((s) => / 2\d\d$/.test(s)).length;
  t.ok(documented >= 21, `${documented} operations answered 2xx, each checked against the document`);
});

t.test('a 429 or 503 is retried after its Retry-After; a longer wait than allowed is thrown', async (t) => {
  const calls: string[] = [];
  const answers = [
    new Response(JSON.stringify({ type: 'urn:rapport:problem:rate_limited', title: 'Too many requests', status: 429, code: 'rate_limited', detail: 'slow down' }), {
      status: 429,
      headers: { 'content-type': 'application/problem+json', 'retry-after': '0' },
    }),
    new Response(JSON.stringify({ type: 'urn:rapport:problem:overloaded', title: 'The service is overloaded', status: 503, code: 'overloaded', detail: 'busy' }), {
      status: 503,
      headers: { 'content-type': 'application/problem+json', 'retry-after': '0' },
    }),
    new Response(JSON.stringify({ accepted: 1, duplicates: 0, rejected: [], rejected_total: 0 }), { status: 200, headers: { 'content-type': 'application/json' } }),
  ];
  const fake = async (request: Request) => {
    calls.push(`${request.method} ${new URL(request.url).pathname} ${await request.text()}`);
    return answers.shift()!;
  };
  const rapport = new Rapport({ baseUrl: 'http://rapport.test', key: 'rpk_x_y', fetch: fake });
  const event = { type: 'like', actor: 'a', target: 'b', occurred_at: '2026-11-20T10:00:00Z' } as const;
  t.same(await rapport.ingestEvents([event]), { accepted: 1, duplicates: 0, rejected: [], rejected_total: 0 });
  t.equal(calls.length, 3, 'sent three times');
  t.equal(new Set(calls).size, 1, 'the same body each time');

  const slow = new Rapport({
    baseUrl: 'http://rapport.test',
    key: 'rpk_x_y',
    maxRetryDelayMs: 1000,
    fetch: () =>
      Promise.resolve(
        new Response(JSON.stringify({ type: 'urn:rapport:problem:rate_limited', title: 'Too many requests', status: 429, code: 'rate_limited', detail: 'wait' }), {
          status: 429,
          headers: { 'content-type': 'application/problem+json', 'retry-after': '30' },
        }),
      ),
  });
  t.match(await slow.getHealth().catch((e: unknown) => e), { status: 429, code: 'rate_limited', retryAfter: 30 });
  t.equal(retryAfterSeconds('7'), 7);
  t.equal(retryAfterSeconds(new Date(Date.now() - 1000).toUTCString()), 0);
});

t.test('ingestStream sends the lines of a file as they are read (the SDK README’s example)', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const rapport = new Rapport({ baseUrl, key: tenant.key, fetch: checkedFetch(t) });
  const lines = () => createInterface({ input: createReadStream(new URL('../../examples/events.ndjson', import.meta.url)) });
  t.same(await rapport.ingestStream(lines()), { accepted: 12, duplicates: 0, rejected: [], rejected_total: 0 });
  t.same(await rapport.ingestStream(lines()), { accepted: 0, duplicates: 12, rejected: [], rejected_total: 0 }, 'sent again: duplicates');
  const spammy = await rapport.getSpam('tw:spammy');
  t.match(spammy.spam, { posts: 2, link_post_ratio: { value: 1 }, duplicate_post_ratio: { value: 0.5 }, quick_unfollows: 1 });
});
