import t, { type Test } from 'tap';
import { at, bearer, newTenant, tenantApp, testApp, type TestApp } from '../helpers.js';

/**
 * The account endpoints (SPEC §3, §4) through HTTP only: each test writes its events by hand,
 * ingests them with POST /v1/events/batch and reads the answers. Every expected number is worked
 * out by hand from those events (the arithmetic is in the comments), never by the code under test.
 * `at(m)` is m minutes after 2026-01-01T00:00:00Z, a Thursday.
 */

type App = TestApp['app'];
type Event = Record<string, unknown>;
interface Res {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
  json: () => any;
}

const PROBLEM = 'application/problem+json; charset=utf-8';

// ---- events -------------------------------------------------------------------------------------

const when = (m: number | string) => (typeof m === 'number' ? at(m) : m);
const ev = (type: string, actor: string, target: string, m: number | string, extra: object = {}): Event => ({
  type,
  actor,
  target,
  occurred_at: when(m),
  ...extra,
});
const follow = (a: string, b: string, m: number | string) => ev('follow', a, b, m);
const unfollow = (a: string, b: string, m: number | string) => ev('unfollow', a, b, m);
const like = (a: string, b: string, m: number | string) => ev('like', a, b, m);
const reply = (a: string, b: string, m: number | string, extra: object = {}) => ev('reply', a, b, m, extra);
const mention = (a: string, b: string, m: number | string, extra: object = {}) => ev('mention', a, b, m, extra);
const repost = (a: string, b: string, m: number | string) => ev('repost', a, b, m);
const post = (a: string, m: number | string, extra: object = {}): Event => ({ type: 'post', actor: a, occurred_at: when(m), ...extra });

/** Ingests hand-written events; every one must be stored (none is a duplicate of another). */
async function ingest(t: Test, app: App, key: string, events: Event[]) {
  const res = await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(key), payload: { events } });
  t.equal(res.statusCode, 200, 'the batch is answered');
  t.strictSame(res.json(), { accepted: events.length, duplicates: 0, rejected: [], rejected_total: 0 }, `all ${events.length} events stored`);
}

// ---- reading ------------------------------------------------------------------------------------

const path = (account: string) => `/v1/accounts/${encodeURIComponent(account)}`;
const get = (app: App, key: string, url: string): Promise<Res> => app.inject({ method: 'GET', url, headers: bearer(key) });

/** A read's answer, after checking it is 200 and reflects every acknowledged event; `as_of` is checked and left out. */
async function ok(t: Test, app: App, key: string, url: string) {
  const res = await get(app, key, url);
  t.equal(res.statusCode, 200, `GET ${url}`);
  const { as_of: asOf, ...body } = res.json();
  t.strictSame(asOf, { complete: true, pending_events: 0 }, `GET ${url}: complete`);
  return body;
}

const scoresOf = (t: Test, app: App, key: string, account: string, query = '') => ok(t, app, key, `${path(account)}/scores${query}`);

/** Every page of a paginated list, following next_cursor; `url` already has a query string. */
async function walk(t: Test, app: App, key: string, url: string) {
  const pages: { items: unknown[]; next_cursor: string | null }[] = [];
  let cursor: string | null = null;
  do {
    const body = await ok(t, app, key, cursor === null ? url : `${url}&cursor=${encodeURIComponent(cursor)}`);
    pages.push(body);
    cursor = body.next_cursor;
  } while (cursor !== null && pages.length < 50);
  return pages;
}

const names = (items: { account: string }[]) => items.map((i) => i.account);

/** A 400 validation problem whose `errors` name `field` (its location prefix aside). */
function assertValidation(t: Test, res: Res, field: string, what: string, code: 'validation_failed' | 'invalid_cursor' = 'validation_failed') {
  t.equal(res.statusCode, 400, `${what}: 400`);
  t.equal(res.headers['content-type'], PROBLEM, `${what}: problem+json`);
  const body = res.json();
  t.match(body, { type: `urn:rapport:problem:${code}`, status: 400, code, title: String, detail: String }, what);
  const fields: string[] = (body.errors ?? []).map((e: { field: string }) => e.field);
  t.ok(
    fields.some((f) => f === field || f.endsWith(`.${field}`)),
    `${what}: errors name ${field} (got ${JSON.stringify(fields)})`,
  );
}

function assertProblem(t: Test, res: Res, status: number, code: string) {
  t.equal(res.statusCode, status, `status ${status}`);
  t.equal(res.headers['content-type'], PROBLEM);
  t.match(res.json(), { type: `urn:rapport:problem:${code}`, status, code, title: String, detail: String });
}

// ---- expected values ----------------------------------------------------------------------------

/** A ratio worked out by hand: numerator / denominator. */
// Every value that is not a count is answered rounded to 6 decimal places.
const r = (numerator: number, denominator: number) => ({ value: Math.round((numerator / denominator) * 1e6) / 1e6, numerator, denominator });
/** A ratio whose denominator is 0. */
const NONE = { value: null, numerator: 0, denominator: 0 };
const OPEN = { since: null, until: null, churn_hours: 72 };

/** The documented weights of spam_score's signals, in the documented order. */
const WEIGHTS: [string, number][] = [
  ['link_spam', 0.8],
  ['duplicate_posts', 0.7],
  ['follow_churn', 0.8],
  ['follow_burst', 0.6],
  ['like_for_like', 0.7],
  ['low_engagement', 0.5],
];
/** Signals with the given strengths (others 0); contribution = weight × strength, written out by the caller. */
const signals = (s: Record<string, [number, number]> = {}) =>
  WEIGHTS.map(([signal, weight]) => ({ signal, strength: s[signal]?.[0] ?? 0, weight, contribution: s[signal]?.[1] ?? 0 }));

const counts = (like = 0, reply = 0, mention = 0, repost = 0) => ({ like, reply, mention, repost, total: like + reply + mention + repost });

const ZERO_RECIPROCITY = {
  followers: 0,
  following: 0,
  mutual: 0,
  follow_back_rate: NONE,
  followers_followed_back: NONE,
  graph_reciprocity: NONE,
  following_to_followers: NONE,
  partners_engaged: 0,
  partners_engaging: 0,
  partners_mutual: 0,
  engagement_reciprocity: NONE,
  exchange_balance: NONE,
  response_rate: NONE,
};
const ZERO_ENGAGEMENT = {
  interactions_received: counts(),
  engaged_followers: 0,
  engaged_follower_ratio: NONE,
  interactions_per_follower: NONE,
};
const ZERO_SPAM = {
  posts: 0,
  link_post_ratio: NONE,
  question_ratio: NONE,
  duplicate_post_ratio: NONE,
  follows: 0,
  quick_unfollows: 0,
  follow_churn_ratio: NONE,
  peak_daily_follows: 0,
  like_for_like_ratio: NONE,
  spam_score: 0,
  signals: signals(),
  flags: [],
};
const unknownScores = (account: string) => ({
  account,
  window: OPEN,
  reciprocity: ZERO_RECIPROCITY,
  engagement: ZERO_ENGAGEMENT,
  spam: ZERO_SPAM,
});

// ---- a non-trivial account ----------------------------------------------------------------------

const A = 'tw:alice';
const B = 'tw:bob';
const C = 'tw:carol';
const D = 'tw:dave';
const E = 'tw:erin';

/** Alice's world, all on 2026-01-01 (UTC). */
const aliceEvents = (): Event[] => [
  follow(A, B, 0),
  follow(B, A, 10), // A↔B mutual
  follow(A, C, 20), // C does not follow back
  follow(D, A, 30), // D follows A ...
  follow(E, A, 40),
  follow(A, D, 50),
  unfollow(A, D, 110), // ... A followed D and undid it 60 minutes later: a quick unfollow
  like(B, A, 100),
  reply(B, A, 110, { text: 'What do you think?' }),
  reply(A, B, 130, { text: 'Loved it' }), // answers B's reply 20 minutes later
  like(A, B, 140),
  mention(C, A, 200, { text: 'cc @alice' }), // never answered
  like(A, C, 210),
  like(C, A, 220),
  like(A, E, 300),
  like(E, A, 310), // A and E trade likes and never talk: like-for-like
  repost(A, E, 320),
  repost(D, A, 400),
  like(A, A, 500), // self-directed: counts nowhere
  post(A, 600, { text: 'Buy my book https://example.com/book' }), // link; fingerprint "buy my book"
  post(A, 610, { text: 'BUY my   book www.example.com' }), // link; same fingerprint: a duplicate
  post(A, 620, { text: 'What are you reading?' }), // a question
  post(A, 630, { text: 'https://example.com/?q=1' }), // link only: the ? is inside the link, no fingerprint
];

/**
 * Alice by hand.
 * Followers B, D, E (3); following B, C (2; D was unfollowed); mutual B (1).
 * Out interactions: B 2 (reply, like), C 1 (like), E 2 (like, repost) → sent 5, engaged 3.
 * In interactions: B 2 (like, reply), C 2 (mention, like), E 1 (like), D 1 (repost) → engaging 4.
 * Partners both ways: B, C, E (3). Σ min(out, in) = 2 + 1 + 1 + 0 = 4, over 5 sent.
 * Replies/mentions received: B's reply (answered at +20 min), C's mention (not) → 1/2.
 * Received: like 3 (B, C, E), reply 1, mention 1, repost 1 → 6; every follower (B, D, E) interacted.
 * Posts 4: links 3, questions 1, duplicates 1. Follows 3 (B, C, D) on one day, 1 undone within 72 h.
 * Liked B, C, E; only E liked back with no reply or mention either way → 1/3.
 */
const ALICE = {
  account: A,
  window: OPEN,
  reciprocity: {
    followers: 3,
    following: 2,
    mutual: 1,
    follow_back_rate: r(1, 2),
    followers_followed_back: r(1, 3),
    graph_reciprocity: r(2, 5), // 2·1 / (3 + 2)
    following_to_followers: r(2, 3),
    partners_engaged: 3,
    partners_engaging: 4,
    partners_mutual: 3,
    engagement_reciprocity: r(3, 3),
    exchange_balance: r(4, 5),
    response_rate: r(1, 2),
  },
  engagement: {
    interactions_received: counts(3, 1, 1, 1),
    engaged_followers: 3,
    engaged_follower_ratio: r(3, 3),
    interactions_per_follower: r(6, 3),
  },
  spam: {
    posts: 4,
    link_post_ratio: r(3, 4),
    question_ratio: r(1, 4),
    duplicate_post_ratio: r(1, 4),
    follows: 3,
    quick_unfollows: 1,
    follow_churn_ratio: r(1, 3),
    peak_daily_follows: 3,
    like_for_like_ratio: r(1, 3),
    // link_spam 0.75 × (1 − 0.25/2) × min(1, 4/5) = 0.525 (× 0.8 = 0.42); duplicate_posts 0.25 × 0.8 = 0.2 (× 0.7 = 0.14);
    // follow_churn 1/3 × 3/10 = 0.1 (× 0.8 = 0.08); like_for_like 1/3 × 3/10 = 0.1 (× 0.7 = 0.07);
    // follow_burst 0 (3 ≤ 50); low_engagement (1 − 3/3) × … = 0.
    // spam_score = 1 − 0.58 × 0.86 × 0.92 × 0.93 = 1 − 0.42677328 = 0.57322672 → 0.573227
    spam_score: 0.573227,
    signals: signals({ link_spam: [0.525, 0.42], duplicate_posts: [0.2, 0.14], follow_churn: [0.1, 0.08], like_for_like: [0.1, 0.07] }),
    flags: [], // 4 posts < 5, 3 follows < 10, 3 liked < 10, 3 followers < 1,000: no flag's evidence is met
  },
};

// =================================================================================================
// scores
// =================================================================================================

t.test('an unknown account has zero counts, null ratios, no spam and an open window', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, aliceEvents()); // a busy workspace that never names tw:nobody
  t.strictSame(await scoresOf(t, app, tenant.readKey, 'tw:nobody'), unknownScores('tw:nobody'));
});

t.test('an account’s scores are the hand-computed reciprocity, engagement and spam of its events', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, aliceEvents());
  t.strictSame(await scoresOf(t, app, tenant.readKey, A), ALICE);
});

t.test('the reciprocity, engagement and spam endpoints answer the same section as /scores', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, aliceEvents());
  for (const query of ['', '?since=2026-01-01T00:05:00Z&until=2026-01-01T10:05:00Z&churn_hours=1']) {
    const scores = await scoresOf(t, app, tenant.readKey, A, query);
    for (const section of ['reciprocity', 'engagement', 'spam'] as const) {
      const one = await ok(t, app, tenant.readKey, `${path(A)}/${section}${query}`);
      t.strictSame(one, { account: A, window: scores.window, [section]: scores[section] }, `${section} ${query}`);
    }
  }
});

t.test('an account id that needs percent-encoding round-trips through the path', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, [
    follow('tw:x', 'fb:page/123', 0),
    like('fb:page/123', 'tw:josé smith', 1),
    mention('tw:50%+off', 'tw:josé smith', 2),
    follow('tw:50%+off', 'fb:page/123', 3),
  ]);
  const page = await ok(t, app, tenant.readKey, '/v1/accounts/fb%3Apage%2F123/scores');
  t.equal(page.account, 'fb:page/123');
  t.equal(page.reciprocity.followers, 2); // tw:x and tw:50%+off
  t.equal(page.reciprocity.partners_engaged, 1); // the like to tw:josé smith

  const jose = await ok(t, app, tenant.readKey, '/v1/accounts/tw%3Ajos%C3%A9%20smith/scores');
  t.equal(jose.account, 'tw:josé smith');
  t.strictSame(jose.engagement.interactions_received, counts(1, 0, 1, 0)); // a like and a mention

  const sale = await ok(t, app, tenant.readKey, '/v1/accounts/tw%3A50%25%2Boff/reciprocity');
  t.equal(sale.account, 'tw:50%+off');
  t.equal(sale.reciprocity.following, 1);
  t.equal(sale.reciprocity.partners_engaged, 1);
});

t.test('the lists and the delete take a percent-encoded account too', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, [follow('tw:x', 'fb:page/123', 0), like('fb:page/123', 'tw:josé smith', 1), follow('tw:50%+off', 'fb:page/123', 3)]);
  t.strictSame(await ok(t, app, tenant.readKey, '/v1/accounts/tw%3A50%25%2Boff/non-followers'), {
    account: 'tw:50%+off',
    items: [edge('fb:page/123', 3)],
    next_cursor: null,
  });
  t.strictSame(names((await ok(t, app, tenant.readKey, '/v1/accounts/fb%3Apage%2F123/fans')).items), ['tw:x', 'tw:50%+off']);
  t.strictSame(names((await ok(t, app, tenant.readKey, '/v1/accounts/tw%3Ajos%C3%A9%20smith/partners')).items), ['fb:page/123']);
  const gone = await app.inject({ method: 'DELETE', url: '/v1/accounts/fb%3Apage%2F123', headers: bearer(tenant.writeKey) });
  t.strictSame(gone.json(), { account: 'fb:page/123', events_deleted: 3 });
  t.equal((await ok(t, app, tenant.readKey, '/v1/accounts/tw%3Ajos%C3%A9%20smith/scores')).engagement.interactions_received.total, 0);
});

// =================================================================================================
// validation
// =================================================================================================

t.test('malformed query parameters are 400 validation problems naming the parameter', async (t) => {
  const { app, tenant } = await tenantApp(t);
  // Enough data for a second page everywhere, so each list has a real cursor to tamper with.
  await ingest(t, app, tenant.writeKey, [
    follow('v:a', 'v:b', 0),
    follow('v:a', 'v:c', 1),
    follow('v:b', 'v:a', 2),
    follow('v:c', 'v:a', 3),
    like('v:a', 'v:b', 4),
    like('v:b', 'v:a', 5),
    like('v:a', 'v:c', 6),
    like('v:c', 'v:a', 7),
  ]);
  const p = path('v:a');
  const cursorOf = async (url: string) => {
    const c = (await ok(t, app, tenant.readKey, url)).next_cursor;
    t.type(c, 'string', `${url} has a next page`);
    return String(c);
  };
  const rankCursor = await cursorOf('/v1/accounts?limit=1');
  const partnersCursor = await cursorOf(`${p}/partners?limit=1`);
  await ingest(t, app, tenant.writeKey, [follow('v:a', 'v:d', 8), follow('v:a', 'v:e', 9)]);
  const nonFollowersCursor = await cursorOf(`${p}/non-followers?limit=1`);
  const tamper = (c: string) => encodeURIComponent(c.slice(0, -3));

  const cases: [string, string, string][] = [
    [`${p}/scores?since=yesterday`, 'since', 'since not a date-time'],
    [`${p}/scores?since=2026-01-01`, 'since', 'since a date without a time'],
    [`${p}/scores?until=2026-01-01T00:00:00`, 'until', 'until without an offset'],
    [`${p}/scores?since=2026-01-02T00:00:00Z&until=2026-01-02T00:00:00Z`, 'until', 'until equal to since'],
    [`${p}/scores?since=2026-01-02T00:00:00Z&until=2026-01-01T23:59:59Z`, 'until', 'until before since'],
    [`${p}/scores?since=2026-01-02T00:00:00Z&until=2026-01-02T01:00:00%2B01:00`, 'until', 'until the same instant as since, with an offset'],
    [`${p}/scores?churn_hours=0`, 'churn_hours', 'churn_hours 0'],
    [`${p}/scores?churn_hours=8761`, 'churn_hours', 'churn_hours 8761'],
    [`${p}/scores?churn_hours=abc`, 'churn_hours', 'churn_hours abc'],
    [`${p}/scores?churn_hours=1.5`, 'churn_hours', 'churn_hours not an integer'],
    [`${p}/reciprocity?since=soon`, 'since', 'reciprocity since'],
    [`${p}/engagement?churn_hours=0`, 'churn_hours', 'engagement churn_hours'],
    [`${p}/spam?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z`, 'until', 'spam until before since'],
    ['/v1/accounts?sort=popularity', 'sort', 'an unknown sort'],
    ['/v1/accounts?order=up', 'order', 'a bad order'],
    ['/v1/accounts?limit=0', 'limit', 'limit 0'],
    ['/v1/accounts?limit=1001', 'limit', 'limit 1001'],
    ['/v1/accounts?min_followers=-1', 'min_followers', 'negative min_followers'],
    [`/v1/accounts?cursor=${tamper(rankCursor)}`, 'cursor', 'a truncated ranking cursor'],
    ['/v1/accounts?cursor=not-a-cursor', 'cursor', 'a made-up ranking cursor'],
    [`/v1/accounts?cursor=${partnersCursor}`, 'cursor', 'a partners cursor on the ranking'],
    [`${p}/non-followers?limit=0`, 'limit', 'non-followers limit 0'],
    [`${p}/non-followers?cursor=${tamper(nonFollowersCursor)}`, 'cursor', 'a truncated non-followers cursor'],
    [`${p}/fans?cursor=${partnersCursor}`, 'cursor', 'a partners cursor on fans'],
    [`${p}/partners?limit=1001`, 'limit', 'partners limit 1001'],
    [`${p}/partners?cursor=${tamper(partnersCursor)}`, 'cursor', 'a truncated partners cursor'],
    [`${p}/partners?cursor=${nonFollowersCursor}`, 'cursor', 'a non-followers cursor on partners'],
    [`${p}/activity-hours?tz=Mars/Olympus`, 'tz', 'an unknown time zone'],
    [`${p}/activity-hours?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z`, 'until', 'activity-hours until before since'],
  ];
  for (const [url, field, what] of cases) {
    assertValidation(t, await get(app, tenant.readKey, url), field, what, field === 'cursor' ? 'invalid_cursor' : 'validation_failed');
  }
});

t.test('an account of more than 256 characters or with a control character is a 400 problem', async (t) => {
  const { app, tenant } = await tenantApp(t);
  // SPEC §1: 1–256 characters, no control characters; §5: a validation error is a 400 problem naming the field.
  assertValidation(t, await get(app, tenant.readKey, `/v1/accounts/${'x'.repeat(257)}/scores`), 'account', '257 characters');
  assertValidation(t, await get(app, tenant.readKey, '/v1/accounts/tw%3Aa%0Ab/scores'), 'account', 'a line feed');
  const res = await batch(app, tenant.readKey, { accounts: ['tw:ok', 'tw:bad\u0007'] });
  assertValidation(t, res, 'accounts.1', 'a control character in the second account of a batch');
});

t.test('an account of 101 to 256 characters can be read and erased through its path', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const longest = `tw:${'x'.repeat(253)}`; // 256 characters: the most SPEC §1 allows
  const long = `tw:${'y'.repeat(98)}`; // 101 characters
  const accented = `tw:${'é'.repeat(200)}`; // 203 characters
  await ingest(t, app, tenant.writeKey, [like(longest, 'tw:b', 0), like(long, 'tw:b', 1), follow(accented, 'tw:b', 2)]);
  for (const account of [longest, long, accented]) {
    const res = await get(app, tenant.readKey, `${path(account)}/scores`);
    t.equal(res.statusCode, 200, `${account.length} characters: 200`);
    t.equal(res.statusCode === 200 ? res.json().account : undefined, account, `${account.length} characters: echoed`);
  }
  const byBatch = (await batch(app, tenant.readKey, { accounts: [longest] })).json();
  t.equal(byBatch.results[0].reciprocity.partners_engaged, 1, 'the batch endpoint reads it (the account is in the body)');
  const erased = await del(app, tenant.writeKey, longest);
  t.equal(erased.statusCode, 200, 'the right to erasure reaches a 256-character account');
  t.same(erased.json(), { account: longest, events_deleted: 1 });
});

t.test('a cursor only works for the query that issued it; anything else is 400 invalid_cursor', async (t) => {
  const { app, db, tenant } = await tenantApp(t);
  const other = await newTenant(db);
  const events = [follow('c:a', 'c:b', 0), follow('c:a', 'c:c', 1), follow('c:a', 'c:d', 2), follow('c:b', 'c:a', 3), follow('c:e', 'c:f', 4), follow('c:e', 'c:g', 5)];
  await ingest(t, app, tenant.writeKey, events);
  await ingest(t, app, other.writeKey, events);
  const cursorOf = async (key: string, url: string) => {
    const c = (await ok(t, app, key, url)).next_cursor;
    t.type(c, 'string', `${url} has a next page`);
    return encodeURIComponent(String(c));
  };
  const rank = await cursorOf(tenant.readKey, '/v1/accounts?sort=spam_score&limit=1');
  const nonFollowers = await cursorOf(tenant.readKey, `${path('c:a')}/non-followers?limit=1`);
  const fansOfE = await cursorOf(tenant.readKey, `${path('c:e')}/non-followers?limit=1`);
  t.equal((await get(app, tenant.readKey, `/v1/accounts?sort=spam_score&limit=1&cursor=${rank}`)).statusCode, 200, 'the same query takes it');
  t.equal((await get(app, tenant.readKey, `/v1/accounts?limit=1&cursor=${rank}`)).statusCode, 200, 'defaults spelled out or not are the same query');

  // A hand-made cursor: the right shape (a sort key of a real account), but not signed by the service.
  const forgedKey = Buffer.from(JSON.stringify([0, 'c:a'])).toString('base64url');
  const cases: [string, string, string][] = [
    [tenant.readKey, `/v1/accounts?sort=followers&limit=1&cursor=${rank}`, 'a spam_score cursor on sort=followers'],
    [tenant.readKey, `/v1/accounts?sort=spam_score&order=asc&limit=1&cursor=${rank}`, 'a desc cursor on order=asc'],
    [tenant.readKey, `/v1/accounts?sort=spam_score&min_followers=1&limit=1&cursor=${rank}`, 'a cursor on another min_followers'],
    [other.readKey, `/v1/accounts?sort=spam_score&limit=1&cursor=${rank}`, 'a cursor in another workspace'],
    [tenant.readKey, `${path('c:a')}/fans?limit=1&cursor=${nonFollowers}`, 'a non-followers cursor on /fans'],
    [tenant.readKey, `${path('c:b')}/fans?limit=1&cursor=${nonFollowers}`, 'a non-followers cursor on another account’s /fans'],
    [tenant.readKey, `${path('c:a')}/non-followers?limit=1&cursor=${fansOfE}`, 'another account’s non-followers cursor'],
    [tenant.readKey, `/v1/accounts?limit=1&cursor=${forgedKey}`, 'a hand-made cursor without a signature'],
    [tenant.readKey, `/v1/accounts?limit=1&cursor=${forgedKey}.${'A'.repeat(43)}`, 'a hand-made cursor with a made-up signature'],
    [tenant.readKey, `/v1/accounts?limit=1&cursor=${rank}.x`, 'a cursor with something appended'],
  ];
  for (const [key, url, what] of cases) assertValidation(t, await get(app, key, url), 'cursor', what, 'invalid_cursor');
});

t.test('a cursor one process issued is accepted by another process on the same database', async (t) => {
  const { tenant, ...first } = await tenantApp(t);
  const second = await testApp(t);
  await ingest(t, first.app, tenant.writeKey, [follow('m:a', 'm:b', 0), follow('m:a', 'm:c', 1)]);
  const page = await ok(t, first.app, tenant.readKey, `${path('m:a')}/non-followers?limit=1`);
  const next = await ok(t, second.app, tenant.readKey, `${path('m:a')}/non-followers?limit=1&cursor=${encodeURIComponent(page.next_cursor)}`);
  t.strictSame(names(next.items), ['m:c']);
});

t.test('an unknown query parameter is a 400 naming it, on every operation that takes a query', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const p = path('u:a');
  for (const url of [
    `${p}/spam?churnhours=5`,
    `${p}/scores?sinse=2026-01-01T00:00:00Z`,
    `${p}/reciprocity?x=1`,
    `${p}/engagement?x=1`,
    '/v1/accounts?sortby=followers',
    `${p}/non-followers?page=2`,
    `${p}/fans?page=2`,
    `${p}/partners?offset=5`,
    `${p}/activity-hours?timezone=UTC`,
  ]) {
    const res = await get(app, tenant.readKey, url);
    const name = url.split('?')[1]!.split('=')[0]!;
    assertValidation(t, res, name, url);
    t.match(res.json().errors, [{ field: `querystring.${name}`, message: 'unknown field' }], `${url}: names ${name}`);
  }
});

t.test('a batch-scores window error names the body field, where the value is', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const res = await batch(app, tenant.readKey, { accounts: ['tw:a'], since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' });
  assertValidation(t, res, 'until', 'until before since');
  t.strictSame(res.json().errors, [{ field: 'until', message: 'must be later than since' }]);
});

t.test('a query parameter is named the same way in every validation error', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const p = path('v:a');
  const fieldsOf = async (url: string): Promise<string[]> => ((await get(app, tenant.readKey, url)).json().errors ?? []).map((e: { field: string }) => e.field);
  // `until` is malformed in one request and earlier than `since` in the other: the same parameter either way.
  const malformed = await fieldsOf(`${p}/scores?until=soon`);
  const tooEarly = await fieldsOf(`${p}/scores?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z`);
  t.strictSame(tooEarly, malformed, 'until is named alike');
  // And `limit` (checked by the schema) and `cursor` (checked by the handler) share one prefix.
  const limit = await fieldsOf('/v1/accounts?limit=0');
  const cursor = await fieldsOf('/v1/accounts?cursor=not-a-cursor');
  t.strictSame(
    [limit[0]?.replace(/limit$/, ''), cursor[0]?.replace(/cursor$/, '')].filter((x, i, all) => all.indexOf(x) === i).length,
    1,
    `one prefix for query parameters (got ${JSON.stringify([...limit, ...cursor])})`,
  );
});

t.test('query parameters at their limits are accepted', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, [follow('v:a', 'v:b', 0)]);
  const p = path('v:a');
  for (const url of [
    `${p}/scores?churn_hours=1`,
    `${p}/scores?churn_hours=8760`,
    `${p}/scores?since=2026-01-01T00:00:00Z&until=2026-01-01T00:00:00.000001Z`,
    '/v1/accounts?limit=1&order=asc&sort=followers',
    '/v1/accounts?limit=1000&min_followers=0',
    `${p}/non-followers?limit=1000`,
    `${p}/activity-hours?tz=Asia/Kathmandu`,
  ]) {
    t.equal((await get(app, tenant.readKey, url)).statusCode, 200, url);
  }
});

// =================================================================================================
// the window
// =================================================================================================

/** The window [2026-01-02T00:00Z, 2026-01-03T00:00Z) is minutes [1440, 2880). */
const W = { a: 'win:alice', b: 'win:bob', c: 'win:carol', d: 'win:dave', e: 'win:erin' };
const windowEvents = (): Event[] => [
  follow(W.b, W.a, 0), // before the window, still a follower
  follow(W.a, W.e, 100), // before the window, still followed
  like(W.b, W.a, 100), // before: out
  post(W.a, 1000), // before: out
  like(W.b, W.a, 1440), // exactly at since: in
  follow(W.c, W.a, 1500), // in
  follow(W.a, W.d, 1500), // in: A's one follow in the window
  post(W.a, 1600), // in
  reply(W.c, W.a, 2000), // in
  like(W.a, W.b, 2500), // in
  post(W.a, 2879), // in: the last minute
  repost(W.d, W.a, 2880), // exactly at until: out
  mention(W.e, W.a, 3000), // after: out
  reply(W.a, W.c, 6200), // after until, 70 h after C's reply at 2000: still answers it
];

t.test('with since and until the window is stated in canonical UTC and activity counts only events in [since, until)', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, windowEvents());
  const q = new URLSearchParams({ since: '2026-01-02T01:00:00+01:00', until: '2026-01-03T00:00:00Z', churn_hours: '24' });
  const body = await scoresOf(t, app, tenant.readKey, W.a, `?${q.toString()}`);
  t.strictSame(body, {
    account: W.a,
    window: { since: '2026-01-02T00:00:00.000000Z', until: '2026-01-03T00:00:00.000000Z', churn_hours: 24 },
    reciprocity: {
      // The follow graph is the current state: followers B, C; following E, D; no mutual.
      followers: 2,
      following: 2,
      mutual: 0,
      follow_back_rate: r(0, 2),
      followers_followed_back: r(0, 2),
      graph_reciprocity: r(0, 4),
      following_to_followers: r(2, 2),
      // In the window: A liked B; B (like at 1440) and C (reply) reached A.
      partners_engaged: 1,
      partners_engaging: 2,
      partners_mutual: 1,
      engagement_reciprocity: r(1, 1),
      exchange_balance: r(1, 1), // min(1, 1) / 1
      response_rate: r(1, 1), // C's reply, answered after until but within 72 h
    },
    engagement: {
      interactions_received: counts(1, 1, 0, 0), // B's like at since, C's reply; not before, not at until, not after
      engaged_followers: 2, // B and C, both current followers
      engaged_follower_ratio: r(2, 2),
      interactions_per_follower: r(2, 2),
    },
    spam: {
      posts: 2, // 1600 and 2879
      link_post_ratio: r(0, 2),
      question_ratio: r(0, 2),
      duplicate_post_ratio: r(0, 2), // no text, no fingerprint
      follows: 1, // A→D; A→E lies before since
      quick_unfollows: 0,
      follow_churn_ratio: r(0, 1),
      peak_daily_follows: 1,
      like_for_like_ratio: r(1, 1), // A liked B, B liked A, no reply or mention between them in the window
      // like_for_like 1 × min(1, 1/10) = 0.1, × 0.7 = 0.07; low_engagement (1 − 2/2) × … = 0
      spam_score: 0.07,
      signals: signals({ like_for_like: [0.1, 0.07] }),
      flags: [],
    },
  });
});

t.test('a window with only since keeps six fractional digits and reads to the end of time', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, windowEvents());
  // 123456789 ns: digits past the microsecond are dropped, so B's like at 00:00:00.000000 is before since.
  const body = await scoresOf(t, app, tenant.readKey, W.a, `?since=${encodeURIComponent('2026-01-02T00:00:00.123456789Z')}`);
  t.strictSame(body.window, { since: '2026-01-02T00:00:00.123456Z', until: null, churn_hours: 72 });
  t.strictSame(body.engagement.interactions_received, counts(0, 1, 1, 1)); // C's reply, D's repost, E's mention
  t.equal(body.spam.posts, 2);
  t.equal(body.reciprocity.followers, 2);
});

t.test('without a window the same account counts all time', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, windowEvents());
  const body = await scoresOf(t, app, tenant.readKey, W.a);
  t.strictSame(body.window, OPEN);
  t.strictSame(body.engagement.interactions_received, counts(2, 1, 1, 1)); // B ×2, C, E, D
  t.equal(body.spam.posts, 3);
  t.equal(body.spam.follows, 2);
  t.equal(body.reciprocity.partners_engaged, 2); // B (like) and C (reply at 6200)
  t.equal(body.engagement.engaged_followers, 2); // B, C: D and E interact but are not followers
});

t.test('a window that holds every event gives the all-time scores', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, aliceEvents());
  const body = await scoresOf(t, app, tenant.readKey, A, '?since=2025-12-31T00:00:00Z&until=2026-01-02T00:00:00Z');
  t.strictSame(body, { ...ALICE, window: { since: '2025-12-31T00:00:00.000000Z', until: '2026-01-02T00:00:00.000000Z', churn_hours: 72 } });
});

/**
 * ch:a follows t1…t6 at 00:00 and unfollows them after 30 min, 60 min, 61 min, 72 h, 72 h 1 min,
 * and at the same instant (t6: not "after", so never quick). Quick means t < u ≤ t + H hours.
 */
const churnEvents = (): Event[] => [
  ...[1, 2, 3, 4, 5, 6].map((i) => follow('ch:a', `ch:t${i}`, 0)),
  unfollow('ch:a', 'ch:t1', 30),
  unfollow('ch:a', 'ch:t2', 60),
  unfollow('ch:a', 'ch:t3', 61),
  unfollow('ch:a', 'ch:t4', 72 * 60),
  unfollow('ch:a', 'ch:t5', 72 * 60 + 1),
  unfollow('ch:a', 'ch:t6', 0),
];

t.test('churn_hours sets how soon an unfollow makes a quick unfollow, all time and in a window', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, churnEvents());
  // H → quick unfollows: 1 → t1, t2; 2 → + t3; 72 (default) → + t4; 73 and up → + t5. Never t6.
  const expected: [string, number][] = [
    ['', 4],
    ['churn_hours=1', 2],
    ['churn_hours=2', 3],
    ['churn_hours=72', 4],
    ['churn_hours=73', 5],
    ['churn_hours=8760', 5],
  ];
  // The window holds only the first minute: the follows, not the later unfollows, which still count.
  const windowed = 'since=2026-01-01T00:00:00Z&until=2026-01-01T00:01:00Z';
  for (const [query, quick] of expected) {
    for (const q of [query, query ? `${query}&${windowed}` : windowed]) {
      const spam = (await ok(t, app, tenant.readKey, `${path('ch:a')}/spam?${q}`)).spam;
      t.strictSame([spam.follows, spam.quick_unfollows, spam.follow_churn_ratio, spam.peak_daily_follows], [6, quick, r(quick, 6), 6], `${q}: ${quick} quick unfollows of 6`);
    }
  }
});

// =================================================================================================
// POST /v1/scores/batch
// =================================================================================================

const batch = (app: App, key: string, payload: object): Promise<Res> => app.inject({ method: 'POST', url: '/v1/scores/batch', headers: bearer(key), payload });

t.test('a scores batch answers each account in request order with the sections of the single endpoint', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, aliceEvents());
  const res = await batch(app, tenant.readKey, { accounts: [C, 'tw:ghost', A] });
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.strictSame(body.window, OPEN);
  t.strictSame(names(body.results), [C, 'tw:ghost', A]);
  const { window: _w, ...alice } = ALICE;
  t.strictSame(body.results[2], alice, 'alice as computed by hand');
  const { window: _u, ...ghost } = unknownScores('tw:ghost');
  t.strictSame(body.results[1], ghost, 'the unknown account');
  // Carol by hand: followed by A (1 follower); she mentioned and liked A, A liked her.
  t.equal(body.results[0].reciprocity.followers, 1);
  t.strictSame(body.results[0].reciprocity.engagement_reciprocity, r(1, 1)); // C → A, A → C
  for (const [i, account] of [C, 'tw:ghost', A].entries()) {
    const { window: _, ...single } = await scoresOf(t, app, tenant.readKey, account);
    t.strictSame(body.results[i], single, `${account} as the single endpoint has it`);
  }
});

t.test('a scores batch answers a repeated account once, where it first appears', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, aliceEvents());
  const res = await batch(app, tenant.readKey, { accounts: [B, A, B, A, B] });
  t.equal(res.statusCode, 200);
  t.strictSame(names(res.json().results), [B, A]);
});

t.test('a scores batch takes a window and states it', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, windowEvents());
  const res = await batch(app, tenant.readKey, {
    accounts: [W.a],
    since: '2026-01-02T00:00:00Z',
    until: '2026-01-02T19:00:00-05:00',
    churn_hours: 24,
  });
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.strictSame(body.window, { since: '2026-01-02T00:00:00.000000Z', until: '2026-01-03T00:00:00.000000Z', churn_hours: 24 });
  t.strictSame(body.results[0].engagement.interactions_received, counts(1, 1, 0, 0));
});

t.test('a scores batch of 101 accounts is a 400 problem', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, aliceEvents());
  const accounts = Array.from({ length: 101 }, (_, i) => `tw:user${i}`);
  assertValidation(t, await batch(app, tenant.readKey, { accounts }), 'accounts', '101 accounts');
  t.equal((await batch(app, tenant.readKey, { accounts: accounts.slice(0, 100) })).statusCode, 200, '100 accounts are fine');
});

t.test('a scores batch with no accounts is a 400 problem', async (t) => {
  const { app, tenant } = await tenantApp(t);
  assertValidation(t, await batch(app, tenant.readKey, { accounts: [] }), 'accounts', 'an empty list');
});

t.test('a scores batch needs the scores:read scope', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, aliceEvents());
  assertProblem(t, await batch(app, tenant.writeKey, { accounts: [A] }), 403, 'insufficient_scope');
});

// =================================================================================================
// GET /v1/accounts
// =================================================================================================

const R = { amy: 'amy', ben: 'ben', cat: 'cat', dan: 'dan', eve: 'eve', fay: 'fay' };
/**
 * Follows: ben→amy, cat→amy, dan→amy, amy→ben, cat→ben, dan→cat, eve→fay.
 *   followers: amy 3, ben 2, cat 1, fay 1, dan 0, eve 0; following: amy 1, ben 1, cat 2, dan 2, eve 1, fay 0.
 *   mutual: amy 1, ben 1 (each other), others 0.
 * Posts: eve 5 with links, dan 5 with 2 links, cat 1 with a link. fay liked and replied to amy (not a follower).
 * Spam (nobody's followers interact, so low_engagement = followers / 1,000 at weight 0.5):
 *   eve: link_spam 1 × 1 × 1 = 1 → 0.8                                  spam_score 0.8
 *   dan: link_spam 0.4 × 1 × 1 = 0.4 → 0.32                             spam_score 0.32
 *   cat: link_spam 1 × 1 × 1/5 = 0.2 → 0.16; low_engagement 0.001 → 0.0005: 1 − 0.84 × 0.9995 = 0.16042
 *   amy: low_engagement 0.003 → 0.0015; ben: 0.002 → 0.001; fay: 0.001 → 0.0005
 */
const rankingEvents = (): Event[] => [
  follow(R.ben, R.amy, 0),
  follow(R.cat, R.amy, 1),
  follow(R.dan, R.amy, 2),
  follow(R.amy, R.ben, 3),
  follow(R.cat, R.ben, 4),
  follow(R.dan, R.cat, 5),
  follow(R.eve, R.fay, 6),
  ...[10, 11, 12, 13, 14].map((m) => post(R.eve, m, { has_link: true })),
  ...[20, 21].map((m) => post(R.dan, m, { has_link: true })),
  ...[22, 23, 24].map((m) => post(R.dan, m)),
  post(R.cat, 30, { has_link: true }),
  like(R.fay, R.amy, 40),
  reply(R.fay, R.amy, 41),
];

const ranked = (account: string, value: number | null, followers: number, following: number, spam_score: number) => ({
  account,
  value,
  followers,
  following,
  spam_score,
});
const SPAM: Record<string, number> = { eve: 0.8, dan: 0.32, cat: 0.16042, amy: 0.0015, ben: 0.001, fay: 0.0005 };
const FOLLOWERS: Record<string, number> = { amy: 3, ben: 2, cat: 1, fay: 1, dan: 0, eve: 0 };
const FOLLOWING: Record<string, number> = { amy: 1, ben: 1, cat: 2, dan: 2, eve: 1, fay: 0 };
const item = (account: string, value: number | null) => ranked(account, value, FOLLOWERS[account]!, FOLLOWING[account]!, SPAM[account]!);

t.test('accounts are ranked by spam_score, highest first, by default', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, rankingEvents());
  t.strictSame(await ok(t, app, tenant.readKey, '/v1/accounts'), {
    sort: 'spam_score',
    order: 'desc',
    items: ['eve', 'dan', 'cat', 'amy', 'ben', 'fay'].map((a) => item(a, SPAM[a]!)),
    next_cursor: null,
  });
});

t.test('ranking by followers breaks ties by account, and ascending order is the exact reverse', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, rankingEvents());
  const desc = await ok(t, app, tenant.readKey, '/v1/accounts?sort=followers&order=desc');
  // 3, 2, then the ties 1 (cat, fay) and 0 (dan, eve), names in the direction of the sort.
  t.strictSame(
    desc.items,
    ['amy', 'ben', 'fay', 'cat', 'eve', 'dan'].map((a) => item(a, FOLLOWERS[a]!)),
  );
  const asc = await ok(t, app, tenant.readKey, '/v1/accounts?sort=followers&order=asc');
  t.strictSame(asc.items, [...desc.items].reverse());
  // The same request twice gives the same order.
  t.strictSame((await ok(t, app, tenant.readKey, '/v1/accounts?sort=followers&order=desc')).items, desc.items);
});

t.test('min_followers keeps only accounts with at least that many followers', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, rankingEvents());
  t.strictSame(names((await ok(t, app, tenant.readKey, '/v1/accounts?sort=followers&min_followers=1')).items), ['amy', 'ben', 'fay', 'cat']);
  t.strictSame(names((await ok(t, app, tenant.readKey, '/v1/accounts?min_followers=2')).items), ['amy', 'ben']); // 0.0015 > 0.001
  t.strictSame((await ok(t, app, tenant.readKey, '/v1/accounts?min_followers=4')).items, []);
});

t.test('an account only ever named as a target is ranked too', async (t) => {
  const { app, tenant } = await tenantApp(t);
  // SPEC §1: an account exists once an event names it. rk:quiet never acts; it received 2 likes and a follow.
  await ingest(t, app, tenant.writeKey, [like('rk:a', 'rk:quiet', 0), like('rk:b', 'rk:quiet', 1), follow('rk:a', 'rk:quiet', 2)]);
  t.strictSame((await ok(t, app, tenant.readKey, '/v1/accounts?sort=interactions_received')).items, [
    // rk:quiet: 2 received, follower rk:a engaged (1/1) so low_engagement 0 and spam 0.
    ranked('rk:quiet', 2, 1, 0, 0),
    // Ties at 0 by name, descending; rk:a liked one account that never liked back: like_for_like 0/1, spam 0.
    ranked('rk:b', 0, 0, 0, 0),
    ranked('rk:a', 0, 0, 1, 0),
  ]);
});

t.test('pages of 2 walk every ranked account exactly once, in the order of one big page', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, rankingEvents());
  for (const query of ['sort=spam_score', 'sort=followers&order=desc', 'sort=followers&order=asc', 'sort=follow_back_rate']) {
    const whole = await ok(t, app, tenant.readKey, `/v1/accounts?${query}&limit=1000`);
    t.equal(whole.items.length, 6, `${query}: six accounts`);
    const pages = await walk(t, app, tenant.readKey, `/v1/accounts?${query}&limit=2`);
    t.strictSame(
      pages.map((p) => p.items.length),
      [2, 2, 2],
      `${query}: three full pages`,
    );
    t.strictSame(
      pages.flatMap((p) => p.items),
      whole.items,
      `${query}: the pages concatenate to the whole`,
    );
    t.equal(new Set(names(pages.flatMap((p) => p.items as { account: string }[]))).size, 6, `${query}: no account twice`);
  }
  // The hand-computed orders.
  const order = async (q: string) => names((await walk(t, app, tenant.readKey, `/v1/accounts?${q}&limit=2`)).flatMap((p) => p.items as { account: string }[]));
  t.strictSame(await order('sort=spam_score'), ['eve', 'dan', 'cat', 'amy', 'ben', 'fay']);
  t.strictSame(await order('sort=followers&order=desc'), ['amy', 'ben', 'fay', 'cat', 'eve', 'dan']);
});

t.test('ranking by a ratio lists accounts whose ratio is null last in descending order', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, rankingEvents());
  // follow_back_rate = mutual / following: amy 1/1, ben 1/1, cat 0/2, dan 0/2, eve 0/1, fay 0/0 (null).
  const body = await ok(t, app, tenant.readKey, '/v1/accounts?sort=follow_back_rate&order=desc');
  t.strictSame(body, {
    sort: 'follow_back_rate',
    order: 'desc',
    items: [item('ben', 1), item('amy', 1), item('eve', 0), item('dan', 0), item('cat', 0), item('fay', null)],
    next_cursor: null,
  });
});

t.test('each ranked value is the same metric as the account’s /scores', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, [...rankingEvents(), ...aliceEvents()]);
  const fromScores: Record<string, (s: any) => unknown> = {
    spam_score: (s) => s.spam.spam_score,
    followers: (s) => s.reciprocity.followers,
    follow_back_rate: (s) => s.reciprocity.follow_back_rate.value,
    following_to_followers: (s) => s.reciprocity.following_to_followers.value,
    exchange_balance: (s) => s.reciprocity.exchange_balance.value,
    response_rate: (s) => s.reciprocity.response_rate.value,
    interactions_received: (s) => s.engagement.interactions_received.total,
    interactions_per_follower: (s) => s.engagement.interactions_per_follower.value,
    link_post_ratio: (s) => s.spam.link_post_ratio.value,
    follow_churn_ratio: (s) => s.spam.follow_churn_ratio.value,
    like_for_like_ratio: (s) => s.spam.like_for_like_ratio.value,
  };
  const accounts = ['amy', 'cat', 'fay', A, D];
  const scores = new Map<string, unknown>();
  for (const a of accounts) scores.set(a, await scoresOf(t, app, tenant.readKey, a));
  for (const [metric, pick] of Object.entries(fromScores)) {
    const list = await ok(t, app, tenant.readKey, `/v1/accounts?sort=${metric}&limit=1000`);
    for (const a of accounts) {
      const found = list.items.find((i: { account: string }) => i.account === a);
      t.ok(found, `${a} is ranked by ${metric}`);
      t.equal(found?.value, pick(scores.get(a)), `${a} ${metric}`);
    }
  }
  // A few by hand as well: alice's spam_score and exchange_balance, amy's response_rate (fay's reply unanswered).
  const bySpam = await ok(t, app, tenant.readKey, '/v1/accounts?sort=spam_score&limit=1000');
  t.equal(bySpam.items.find((i: { account: string }) => i.account === A)?.value, 0.573227);
  const byExchange = await ok(t, app, tenant.readKey, '/v1/accounts?sort=exchange_balance&limit=1000');
  t.equal(byExchange.items.find((i: { account: string }) => i.account === A)?.value, 4 / 5);
  const byResponse = await ok(t, app, tenant.readKey, '/v1/accounts?sort=response_rate&limit=1000');
  t.equal(byResponse.items.find((i: { account: string }) => i.account === 'amy')?.value, 0);
});

// =================================================================================================
// non-followers and fans
// =================================================================================================

const N = 'nf:a';
const x = (i: number) => `nf:x${i}`;
const f = (i: number) => `nf:f${i}`;
/**
 * A follows x5 (5), x1 (10, unfollowed at 12, followed again at 45), x2 (20), x3 (30), x4 and x7 (both 40).
 * x2 follows back. Followers: x2 (50, followed back), f2 (90), f4 (95, A follows back at 120), f1 (100), f3 (110).
 */
const followEvents = (): Event[] => [
  follow(N, x(5), 5),
  follow(N, x(1), 10),
  unfollow(N, x(1), 12),
  follow(N, x(2), 20),
  follow(N, x(3), 30),
  follow(N, x(4), 40),
  follow(N, x(7), 40),
  follow(N, x(1), 45),
  follow(x(2), N, 50),
  follow(f(2), N, 90),
  follow(f(4), N, 95),
  follow(f(1), N, 100),
  follow(f(3), N, 110),
  follow(N, f(4), 120),
  follow(N, N, 130), // self-directed: in neither list
];
const edge = (account: string, m: number) => ({ account, followed_at: at(m).replace('.000Z', '.000000Z') });

t.test('non-followers lists the accounts A follows that do not follow back, oldest follow first', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, followEvents());
  t.strictSame(await ok(t, app, tenant.readKey, `${path(N)}/non-followers`), {
    account: N,
    // x2 follows back; x1's current follow is the one at 45; x4 and x7 tie at 40 and go by name.
    items: [edge(x(5), 5), edge(x(3), 30), edge(x(4), 40), edge(x(7), 40), edge(x(1), 45)],
    next_cursor: null,
  });
});

t.test('non-followers in pages of 1 give the same sequence', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, followEvents());
  const pages = await walk(t, app, tenant.readKey, `${path(N)}/non-followers?limit=1`);
  t.strictSame(
    pages.map((p) => p.items.length),
    [1, 1, 1, 1, 1],
  );
  t.strictSame(
    pages.flatMap((p) => p.items),
    [edge(x(5), 5), edge(x(3), 30), edge(x(4), 40), edge(x(7), 40), edge(x(1), 45)],
  );
});

t.test('an account A unfollows, or that follows A back, leaves non-followers', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, followEvents());
  await ingest(t, app, tenant.writeKey, [unfollow(N, x(3), 200), follow(x(4), N, 210)]);
  t.strictSame((await ok(t, app, tenant.readKey, `${path(N)}/non-followers`)).items, [edge(x(5), 5), edge(x(7), 40), edge(x(1), 45)]);
});

t.test('fans lists the followers A does not follow back, oldest follow first, in pages too', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, followEvents());
  // x2 and f4 are followed back.
  const expected = [edge(f(2), 90), edge(f(1), 100), edge(f(3), 110)];
  t.strictSame(await ok(t, app, tenant.readKey, `${path(N)}/fans`), { account: N, items: expected, next_cursor: null });
  const pages = await walk(t, app, tenant.readKey, `${path(N)}/fans?limit=1`);
  t.strictSame(
    pages.flatMap((p) => p.items),
    expected,
  );
  t.equal(pages.length, 3);
});

t.test('a follower that unfollows A, or that A follows back, leaves fans', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, followEvents());
  await ingest(t, app, tenant.writeKey, [unfollow(f(1), N, 200), follow(N, f(3), 210)]);
  t.strictSame((await ok(t, app, tenant.readKey, `${path(N)}/fans`)).items, [edge(f(2), 90)]);
});

t.test('a self-follow counts in no follow metric', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, followEvents());
  // Following x5, x1, x2, x3, x4, x7, f4 (7); followers x2, f2, f4, f1, f3 (5); mutual x2, f4 (2). Not nf:a itself.
  // Follow events by A to others: x5, x1, x1 again, x2, x3, x4, x7, f4 = 8, all on 1 January; x1's first undone after 2 min.
  for (const q of ['', '?since=2026-01-01T00:00:00Z&until=2026-01-02T00:00:00Z']) {
    const s = await scoresOf(t, app, tenant.readKey, N, q);
    t.strictSame([s.reciprocity.followers, s.reciprocity.following, s.reciprocity.mutual, s.reciprocity.graph_reciprocity], [5, 7, 2, r(4, 12)], `graph ${q}`);
    t.strictSame([s.spam.follows, s.spam.quick_unfollows, s.spam.peak_daily_follows], [8, 1, 8], `follows ${q}`);
  }
});

// =================================================================================================
// partners
// =================================================================================================

const P = 'pt:a';
const q = (i: number) => `pt:q${i}`;
const partnerEvents = (): Event[] => [
  like(P, q(1), 1),
  like(P, q(1), 2),
  reply(P, q(1), 3),
  like(q(1), P, 4),
  mention(q(1), P, 5), // q1: sent 3, received 2 → exchange 2, volume 5
  like(P, q(2), 6),
  like(P, q(2), 7),
  like(q(2), P, 8),
  like(q(2), P, 9), // q2: 2 and 2 → exchange 2, volume 4
  repost(P, q(3), 10),
  reply(q(3), P, 11),
  reply(q(3), P, 12),
  reply(q(3), P, 13), // q3: 1 and 3 → exchange 1, volume 4
  like(P, q(4), 14),
  like(q(4), P, 15), // q4: 1 and 1 → exchange 1, volume 2
  mention(P, q(0), 16),
  like(q(0), P, 17), // q0: 1 and 1 → exchange 1, volume 2 (ties q4, goes first by name)
  ...[18, 19, 20, 21, 22].map((m) => like(q(5), P, m)), // q5: 0 and 5 → exchange 0, volume 5
  follow(P, q(6), 23), // q6: a follow only: not a partner
  like(P, P, 24), // self: not a partner
  follow(P, q(1), 25),
  follow(q(1), P, 26),
  follow(P, q(3), 27),
  follow(q(5), P, 28),
  post(P, 29),
];
const PARTNERS = [
  { account: q(1), sent: counts(2, 1, 0, 0), received: counts(1, 0, 1, 0), exchange: 2, follows: true, followed_by: true },
  { account: q(2), sent: counts(2, 0, 0, 0), received: counts(2, 0, 0, 0), exchange: 2, follows: false, followed_by: false },
  { account: q(3), sent: counts(0, 0, 0, 1), received: counts(0, 3, 0, 0), exchange: 1, follows: true, followed_by: false },
  { account: q(0), sent: counts(0, 0, 1, 0), received: counts(1, 0, 0, 0), exchange: 1, follows: false, followed_by: false },
  { account: q(4), sent: counts(1, 0, 0, 0), received: counts(1, 0, 0, 0), exchange: 1, follows: false, followed_by: false },
  { account: q(5), sent: counts(), received: counts(5, 0, 0, 0), exchange: 0, follows: false, followed_by: true },
];

t.test('partners are counted each way and sorted by exchange, then volume, then account', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, partnerEvents());
  t.strictSame(await ok(t, app, tenant.readKey, `${path(P)}/partners`), { account: P, items: PARTNERS, next_cursor: null });
});

t.test('partners in pages of 2 give the same sequence', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, partnerEvents());
  const pages = await walk(t, app, tenant.readKey, `${path(P)}/partners?limit=2`);
  t.strictSame(
    pages.map((p) => p.items.length),
    [2, 2, 2],
  );
  t.strictSame(
    pages.flatMap((p) => p.items),
    PARTNERS,
  );
  t.equal(pages[2]!.next_cursor, null);
});

t.test('an account with no interactions has no partners', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, partnerEvents());
  t.strictSame(await ok(t, app, tenant.readKey, `${path(q(6))}/partners`), { account: q(6), items: [], next_cursor: null });
});

// =================================================================================================
// activity-hours
// =================================================================================================

const WEEK = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const cell = (weekday: string, hour: number, interactions: number) => ({ weekday, hour, interactions });
/** The 168 hours, Monday 00 first, zero but for `filled` ("monday 9" → count). */
function week(filled: Record<string, number> = {}) {
  return WEEK.flatMap((weekday) => Array.from({ length: 24 }, (_, hour) => cell(weekday, hour, filled[`${weekday} ${hour}`] ?? 0)));
}
const hoursBody = (account: string, tz: string, filled: Record<string, number>, best: [string, number, number][]) => ({
  account,
  tz,
  window: { since: null, until: null },
  hours: week(filled),
  best_hours: best.map(([d, h, n]) => cell(d, h, n)),
});

t.test('activity-hours counts interactions received per UTC weekday and hour, and the best three', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const H = 'ah:a';
  await ingest(t, app, tenant.writeKey, [
    like('ah:u1', H, '2026-01-05T09:15:00Z'), // Monday 09
    reply('ah:u2', H, '2026-01-05T09:45:00Z'), // Monday 09
    repost('ah:u1', H, '2026-01-06T00:00:00Z'), // Tuesday 00
    like('ah:u3', H, '2026-01-10T12:30:00Z'), // Saturday 12
    mention('ah:u3', H, '2026-01-11T23:59:59Z'), // Sunday 23
    // Not interactions received: a post, a follow and an unfollow, A's own like, a self-like, a like between others.
    post(H, '2026-01-05T09:10:00Z'),
    follow('ah:u4', H, '2026-01-05T09:20:00Z'),
    unfollow('ah:u4', H, '2026-01-05T09:50:00Z'),
    like(H, 'ah:u1', '2026-01-05T09:30:00Z'),
    like(H, H, '2026-01-05T09:40:00Z'),
    like('ah:u1', 'ah:u2', '2026-01-05T09:55:00Z'),
  ]);
  const body = await ok(t, app, tenant.readKey, `${path(H)}/activity-hours?tz=UTC`);
  t.equal(body.hours.length, 168);
  t.strictSame(body.hours[0], cell('monday', 0, 0));
  // Four cells at 1 after Monday 09: the earliest two in the week win the tie.
  t.strictSame(
    body,
    hoursBody(H, 'UTC', { 'monday 9': 2, 'tuesday 0': 1, 'saturday 12': 1, 'sunday 23': 1 }, [
      ['monday', 9, 2],
      ['tuesday', 0, 1],
      ['saturday', 12, 1],
    ]),
  );
  // tz defaults to UTC.
  t.strictSame(await ok(t, app, tenant.readKey, `${path(H)}/activity-hours`), body);
});

t.test('activity-hours in America/New_York follows the March 2026 change to daylight time', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const H = 'ah:ny';
  await ingest(t, app, tenant.writeKey, [
    like('ah:u1', H, '2026-03-06T14:00:00Z'), // Fri 09:00 EST (UTC−5)
    like('ah:u2', H, '2026-03-08T06:30:00Z'), // Sun 01:30 EST
    like('ah:u3', H, '2026-03-08T07:30:00Z'), // Sun 03:30 EDT (UTC−4): 02:00–03:00 does not exist that day
    reply('ah:u1', H, '2026-03-09T03:30:00Z'), // Sun 23:30 EDT
    mention('ah:u2', H, '2026-03-09T04:30:00Z'), // Mon 00:30 EDT
    repost('ah:u3', H, '2026-03-09T13:00:00Z'), // Mon 09:00 EDT
    like('ah:u4', H, '2026-03-09T13:59:00Z'), // Mon 09:59 EDT
  ]);
  t.strictSame(
    await ok(t, app, tenant.readKey, `${path(H)}/activity-hours?tz=America/New_York`),
    hoursBody(H, 'America/New_York', { 'friday 9': 1, 'sunday 1': 1, 'sunday 3': 1, 'sunday 23': 1, 'monday 0': 1, 'monday 9': 2 }, [
      ['monday', 9, 2],
      ['monday', 0, 1],
      ['friday', 9, 1],
    ]),
  );
  // The same events in UTC: Fri 14, Sun 06, Sun 07, Mon 03, Mon 04, Mon 13 ×2.
  t.strictSame(
    await ok(t, app, tenant.readKey, `${path(H)}/activity-hours?tz=UTC`),
    hoursBody(H, 'UTC', { 'friday 14': 1, 'sunday 6': 1, 'sunday 7': 1, 'monday 3': 1, 'monday 4': 1, 'monday 13': 2 }, [
      ['monday', 13, 2],
      ['monday', 3, 1],
      ['monday', 4, 1],
    ]),
  );
});

t.test('activity-hours in Asia/Kathmandu uses its +05:45 offset', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const H = 'ah:ktm';
  await ingest(t, app, tenant.writeKey, [
    like('ah:u1', H, '2026-01-04T18:15:00Z'), // Mon 5 Jan 00:00 local
    like('ah:u2', H, '2026-01-05T18:10:00Z'), // Mon 23:55 local
    like('ah:u3', H, '2026-01-05T18:20:00Z'), // Tue 00:05 local
    repost('ah:u1', H, '2026-01-11T18:14:59Z'), // Sun 11 Jan 23:59:59 local
  ]);
  t.strictSame(
    await ok(t, app, tenant.readKey, `${path(H)}/activity-hours?tz=Asia/Kathmandu`),
    hoursBody(H, 'Asia/Kathmandu', { 'monday 0': 1, 'monday 23': 1, 'tuesday 0': 1, 'sunday 23': 1 }, [
      ['monday', 0, 1],
      ['monday', 23, 1],
      ['tuesday', 0, 1],
    ]),
  );
  // In UTC they fall on Sun 18 (×2: 4 and 11 Jan) and Mon 18 (×2): only two hours have data.
  t.strictSame(
    await ok(t, app, tenant.readKey, `${path(H)}/activity-hours?tz=UTC`),
    hoursBody(H, 'UTC', { 'sunday 18': 2, 'monday 18': 2 }, [
      ['monday', 18, 2],
      ['sunday', 18, 2],
    ]),
  );
});

t.test('activity-hours without interactions received is all zeros with no best hours', async (t) => {
  const { app, tenant } = await tenantApp(t);
  // ah:quiet only acts: posts, follows, likes others.
  await ingest(t, app, tenant.writeKey, [post('ah:quiet', 0), follow('ah:quiet', 'ah:u1', 1), like('ah:quiet', 'ah:u1', 2), follow('ah:u1', 'ah:quiet', 3)]);
  t.strictSame(await ok(t, app, tenant.readKey, `${path('ah:quiet')}/activity-hours`), hoursBody('ah:quiet', 'UTC', {}, []));
  t.strictSame(await ok(t, app, tenant.readKey, `${path('ah:never')}/activity-hours?tz=Asia/Kathmandu`), hoursBody('ah:never', 'Asia/Kathmandu', {}, []));
});

t.test('activity-hours counts only the window when since and until are given', async (t) => {
  const { app, tenant } = await tenantApp(t);
  const H = 'ah:w';
  await ingest(t, app, tenant.writeKey, [
    like('ah:u1', H, '2026-01-05T09:00:00Z'), // before since
    like('ah:u2', H, '2026-01-06T09:00:00Z'), // at since: in
    like('ah:u3', H, '2026-01-07T09:00:00Z'), // at until: out
  ]);
  const body = await ok(t, app, tenant.readKey, `${path(H)}/activity-hours?since=2026-01-06T09:00:00Z&until=2026-01-07T09:00:00Z`);
  t.strictSame(body.window, { since: '2026-01-06T09:00:00.000000Z', until: '2026-01-07T09:00:00.000000Z' });
  t.strictSame(body.best_hours, [cell('tuesday', 9, 1)]);
  t.equal(
    body.hours.reduce((n: number, h: { interactions: number }) => n + h.interactions, 0),
    1,
  );
});

// =================================================================================================
// DELETE /v1/accounts/{account}
// =================================================================================================

const X = { a: 'del:a', b: 'del:b', c: 'del:c', d: 'del:d' };
/** Twelve events name del:a (the self-like once); three do not. */
const eraseEvents = (): Event[] => [
  follow(X.b, X.a, 0), // names a
  follow(X.a, X.b, 5), // names a
  like(X.c, X.a, 10), // names a
  reply(X.a, X.c, 20), // names a
  reply(X.c, X.a, 22), // names a: c answers a's reply 2 minutes later
  like(X.a, X.b, 25), // names a
  post(X.a, 30), // names a
  mention(X.b, X.a, 40), // names a
  like(X.a, X.a, 50), // names a (actor and target: one event)
  repost(X.d, X.a, 90), // names a: d's only event
  follow(X.c, X.a, 100), // names a
  unfollow(X.c, X.a, 130), // names a: c's follow of a undone after 30 minutes
  follow(X.c, X.b, 60),
  like(X.c, X.b, 70),
  post(X.b, 80),
];
const ERASED = 12;

const hoursTotal = (body: { hours: { interactions: number }[] }) => body.hours.reduce((n, h) => n + h.interactions, 0);

/** c's reciprocity before a is erased: following b; a engaged (like, reply) and replied; b liked. */
const C_BEFORE = {
  followers: 0,
  following: 1,
  mutual: 0,
  follow_back_rate: r(0, 1),
  followers_followed_back: NONE,
  graph_reciprocity: r(0, 1),
  following_to_followers: { value: null, numerator: 1, denominator: 0 }, // 1 / 0
  partners_engaged: 2, // a, b
  partners_engaging: 1, // a
  partners_mutual: 1,
  engagement_reciprocity: r(1, 2),
  exchange_balance: r(1, 3), // (min(2, 1) + min(1, 0)) / (2 + 1)
  response_rate: r(1, 1), // a's reply at 20, answered at 22
};

async function rankedValue(t: Test, app: App, key: string, sort: string, account: string) {
  const items: { account: string; value: number | null }[] = (await ok(t, app, key, `/v1/accounts?sort=${sort}&limit=1000`)).items;
  return items.find((i) => i.account === account)?.value;
}

const del = (app: App, key: string, account: string): Promise<Res> => app.inject({ method: 'DELETE', url: path(account), headers: bearer(key) });

t.test('deleting an account erases every event naming it and reports how many', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, eraseEvents());
  const res = await del(app, tenant.writeKey, X.a);
  t.equal(res.statusCode, 200);
  t.strictSame(res.json(), { account: X.a, events_deleted: ERASED });
  t.strictSame(await scoresOf(t, app, tenant.readKey, X.a), unknownScores(X.a), 'a is as if never seen');
  t.strictSame(await scoresOf(t, app, tenant.readKey, X.d), unknownScores(X.d), 'd, named only alongside a, is gone too');
  t.strictSame((await del(app, tenant.writeKey, X.a)).json(), { account: X.a, events_deleted: 0 }, 'a second delete finds nothing');
  t.strictSame((await del(app, tenant.writeKey, 'del:never')).json(), { account: 'del:never', events_deleted: 0 });
});

t.test('after a delete the partners’ scores no longer count the erased account', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, eraseEvents());
  // b before: followers a, c; following a; a↔b mutual; b mentioned a; a and c liked b.
  const before = await scoresOf(t, app, tenant.readKey, X.b);
  t.strictSame(before.reciprocity, {
    followers: 2,
    following: 1,
    mutual: 1,
    follow_back_rate: r(1, 1),
    followers_followed_back: r(1, 2),
    graph_reciprocity: r(2, 3),
    following_to_followers: r(1, 2),
    partners_engaged: 1, // a
    partners_engaging: 2, // a, c
    partners_mutual: 1,
    engagement_reciprocity: r(1, 1),
    exchange_balance: r(1, 1), // min(1 mention, 1 like) / 1
    response_rate: NONE,
  });
  t.strictSame(before.engagement, {
    interactions_received: counts(2, 0, 0, 0),
    engaged_followers: 2,
    engaged_follower_ratio: r(2, 2),
    interactions_per_follower: r(2, 2),
  });
  t.equal(before.spam.follows, 1);
  // c before: follows b (its follow of a was undone after 30 min); liked a and b, replied to a; a replied to c.
  const cBefore = await scoresOf(t, app, tenant.readKey, X.c);
  t.strictSame(cBefore.reciprocity, C_BEFORE);
  t.strictSame(cBefore.engagement, {
    interactions_received: counts(0, 1, 0, 0),
    engaged_followers: 0,
    engaged_follower_ratio: NONE,
    interactions_per_follower: { value: null, numerator: 1, denominator: 0 },
  });
  t.match(cBefore.spam, {
    follows: 2, // b at 60, a at 100
    quick_unfollows: 1, // a, 30 minutes later
    follow_churn_ratio: r(1, 2),
    peak_daily_follows: 2,
    like_for_like_ratio: r(0, 2),
    spam_score: 0.08, // follow_churn 1/2 × min(1, 2/10) = 0.1, × 0.8
  });
  t.equal(await rankedValue(t, app, tenant.readKey, 'spam_score', X.c), 0.08);

  t.equal((await del(app, tenant.writeKey, X.a)).statusCode, 200);

  // b after: only c remains (follows b, liked b).
  const after = await scoresOf(t, app, tenant.readKey, X.b);
  t.strictSame(after.reciprocity, {
    followers: 1,
    following: 0,
    mutual: 0,
    follow_back_rate: NONE,
    followers_followed_back: r(0, 1),
    graph_reciprocity: r(0, 1),
    following_to_followers: r(0, 1),
    partners_engaged: 0,
    partners_engaging: 1,
    partners_mutual: 0,
    engagement_reciprocity: NONE,
    exchange_balance: NONE,
    response_rate: NONE,
  });
  t.strictSame(after.engagement, {
    interactions_received: counts(1, 0, 0, 0),
    engaged_followers: 1,
    engaged_follower_ratio: r(1, 1),
    interactions_per_follower: r(1, 1),
  });
  t.equal(after.spam.follows, 0, 'b→a was b’s only follow');
  t.equal(after.spam.peak_daily_follows, 0);
  t.equal(after.spam.posts, 1);
  // c after: follows and liked b only; nothing received, nothing to answer.
  const cAfter = await scoresOf(t, app, tenant.readKey, X.c);
  t.strictSame(cAfter.reciprocity, {
    ...C_BEFORE,
    partners_engaged: 1,
    partners_engaging: 0,
    partners_mutual: 0,
    engagement_reciprocity: r(0, 1),
    exchange_balance: r(0, 1),
    response_rate: NONE,
  });
  t.strictSame(cAfter.engagement, ZERO_ENGAGEMENT);
  t.match(cAfter.spam, { follows: 1, quick_unfollows: 0, follow_churn_ratio: r(0, 1), peak_daily_follows: 1, like_for_like_ratio: r(0, 1), spam_score: 0 });
  t.equal(await rankedValue(t, app, tenant.readKey, 'spam_score', X.c), 0, 'the stored ranking forgets the churn too');
  // The lists forget a as well.
  t.strictSame(names((await ok(t, app, tenant.readKey, `${path(X.b)}/partners`)).items), [X.c]);
  t.strictSame((await ok(t, app, tenant.readKey, `${path(X.b)}/fans`)).items, [edge(X.c, 60)]);
  t.strictSame((await ok(t, app, tenant.readKey, `${path(X.b)}/non-followers`)).items, []);
  t.strictSame(names((await ok(t, app, tenant.readKey, '/v1/accounts?sort=followers&order=asc')).items), [X.c, X.b]);
  t.strictSame(hoursTotal(await ok(t, app, tenant.readKey, `${path(X.a)}/activity-hours`)), 0);
});

t.test('events sent again after a delete are stored anew and restore the same scores', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, eraseEvents());
  const before = await Promise.all([X.a, X.b, X.c, X.d].map((a) => scoresOf(t, app, tenant.readKey, a)));
  t.equal((await del(app, tenant.writeKey, X.a)).statusCode, 200);
  const again = await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.writeKey), payload: { events: eraseEvents() } });
  // The 12 erased events are new again; the 3 that never named a are still stored.
  t.strictSame(again.json(), { accepted: ERASED, duplicates: 3, rejected: [], rejected_total: 0 });
  const after = await Promise.all([X.a, X.b, X.c, X.d].map((a) => scoresOf(t, app, tenant.readKey, a)));
  t.strictSame(after, before);
  t.strictSame(after[2].reciprocity, C_BEFORE);
  t.equal(await rankedValue(t, app, tenant.readKey, 'spam_score', X.c), 0.08);
});

t.test('deleting an account needs the events:write scope', async (t) => {
  const { app, tenant } = await tenantApp(t);
  await ingest(t, app, tenant.writeKey, eraseEvents());
  assertProblem(t, await del(app, tenant.readKey, X.a), 403, 'insufficient_scope');
  // Nothing was erased: a still has its follower b (c unfollowed) and what it received: c's like and reply, b's mention, d's repost.
  const a = await scoresOf(t, app, tenant.readKey, X.a);
  t.equal(a.reciprocity.followers, 1);
  t.strictSame(a.engagement.interactions_received, counts(1, 1, 1, 1));
});

t.test('deleting an account leaves another workspace’s events with the same names untouched', async (t) => {
  const { app, db } = await testApp(t);
  const one = await newTenant(db);
  const two = await newTenant(db);
  await ingest(t, app, one.writeKey, eraseEvents());
  await ingest(t, app, two.writeKey, eraseEvents());
  const twoBefore = await Promise.all([X.a, X.b, X.c, X.d].map((a) => scoresOf(t, app, two.readKey, a)));
  t.strictSame((await del(app, one.writeKey, X.a)).json(), { account: X.a, events_deleted: ERASED });
  const twoAfter = await Promise.all([X.a, X.b, X.c, X.d].map((a) => scoresOf(t, app, two.readKey, a)));
  t.strictSame(twoAfter, twoBefore);
  // And by hand: in workspace two, a still has b as follower and received c's like and reply, b's mention, d's repost.
  t.equal(twoAfter[0].reciprocity.followers, 1);
  t.strictSame(twoAfter[0].engagement.interactions_received, counts(1, 1, 1, 1));
  t.equal(twoAfter[1].reciprocity.followers, 2);
});

// =================================================================================================
// workspace isolation
// =================================================================================================

t.test('another workspace’s key sees nothing of this workspace’s accounts', async (t) => {
  const { app, db } = await testApp(t);
  const one = await newTenant(db);
  const two = await newTenant(db);
  await ingest(t, app, one.writeKey, [...aliceEvents(), ...followEvents(), ...partnerEvents()]);
  await ingest(t, app, one.writeKey, [like('ah:u1', A, '2026-01-05T09:15:00Z')]);
  const key = two.readKey;

  t.strictSame(await scoresOf(t, app, key, A), unknownScores(A));
  t.strictSame(await ok(t, app, key, `${path(A)}/reciprocity`), { account: A, window: OPEN, reciprocity: ZERO_RECIPROCITY });
  t.strictSame(await ok(t, app, key, `${path(A)}/engagement`), { account: A, window: OPEN, engagement: ZERO_ENGAGEMENT });
  t.strictSame(await ok(t, app, key, `${path(A)}/spam`), { account: A, window: OPEN, spam: ZERO_SPAM });
  const windowed = await scoresOf(t, app, key, A, '?since=2025-01-01T00:00:00Z&until=2027-01-01T00:00:00Z');
  t.strictSame(windowed.reciprocity, ZERO_RECIPROCITY);
  t.strictSame(windowed.engagement, ZERO_ENGAGEMENT);
  const b = await batch(app, key, { accounts: [A, N] });
  t.strictSame(
    b.json().results,
    [A, N].map((a) => {
      const { window: _, ...rest } = unknownScores(a);
      return rest;
    }),
  );
  for (const sort of ['spam_score', 'followers', 'follow_back_rate']) {
    t.strictSame(await ok(t, app, key, `/v1/accounts?sort=${sort}`), { sort, order: 'desc', items: [], next_cursor: null });
  }
  t.strictSame(await ok(t, app, key, `${path(N)}/non-followers`), { account: N, items: [], next_cursor: null });
  t.strictSame(await ok(t, app, key, `${path(N)}/fans`), { account: N, items: [], next_cursor: null });
  t.strictSame(await ok(t, app, key, `${path(P)}/partners`), { account: P, items: [], next_cursor: null });
  t.strictSame(await ok(t, app, key, `${path(A)}/activity-hours`), hoursBody(A, 'UTC', {}, []));
  t.strictSame((await del(app, two.writeKey, A)).json(), { account: A, events_deleted: 0 });
  // Workspace one still has all of it.
  t.equal((await scoresOf(t, app, one.readKey, A)).reciprocity.followers, 3);
  t.equal((await ok(t, app, one.readKey, '/v1/accounts?limit=1000')).items.length > 0, true);
});

t.test('a cursor from one workspace is refused by another, and shows nothing of it', async (t) => {
  const { app, db } = await testApp(t);
  const one = await newTenant(db);
  const two = await newTenant(db);
  await ingest(t, app, one.writeKey, partnerEvents());
  const cursor = (await ok(t, app, one.readKey, `${path(P)}/partners?limit=2`)).next_cursor;
  t.type(cursor, 'string');
  const res = await get(app, two.readKey, `${path(P)}/partners?limit=2&cursor=${cursor}`);
  assertValidation(t, res, 'cursor', 'a cursor of another workspace', 'invalid_cursor');
  t.notOk(res.body.includes('pt:'), 'no account of the other workspace in the answer');
});
