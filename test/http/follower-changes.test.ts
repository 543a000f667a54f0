import fc from 'fast-check';
import t, { type Test } from 'tap';
import { at, bearer, newTenant, testApp, type TestApp } from '../helpers.js';
import { markArb, marksToEvents, modelChanges, modelUnfollowers, type Change } from '../reference/follower-changes.js';

/**
 * SPEC §8 through HTTP: GET /v1/accounts/{account}/follower-changes and …/unfollowers. The
 * fixtures' answers are worked out by hand in the comments; the property tests compare with a
 * naive model written here from the documented rules. `at(m)` is m minutes after 2026-01-01T00:00:00Z.
 */

type App = TestApp['app'];
type Event = Record<string, unknown>;
interface Page {
  account: string;
  window: { since: string | null; until: string | null; churn_hours: number };
  items: Change[];
  next_cursor: string | null;
}

const PROBLEM = 'application/problem+json; charset=utf-8';
/** at(m) as the answers write instants: six fraction digits. */
const iso = (m: number) => at(m).replace('Z', '000Z');

let ids = 0;
const ev = (type: string, actor: string, target: string, m: number | string): Event => ({
  id: `e${ids++}`,
  type,
  actor,
  target,
  occurred_at: typeof m === 'number' ? at(m) : m,
});
const follow = (a: string, b: string, m: number | string) => ev('follow', a, b, m);
const unfollow = (a: string, b: string, m: number | string) => ev('unfollow', a, b, m);

async function ingest(t: Test, app: App, key: string, events: Event[]) {
  const res = await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(key), payload: { events } });
  t.strictSame(res.json(), { accepted: events.length, duplicates: 0, rejected: [], rejected_total: 0 }, `${events.length} events stored`);
}

const path = (account: string) => `/v1/accounts/${encodeURIComponent(account)}`;
const get = (app: App, key: string, url: string) => app.inject({ method: 'GET', url, headers: bearer(key) });

/** A 200 answer that reflects every acknowledged event; `as_of` is checked and left out. */
async function ok(t: Test, app: App, key: string, url: string): Promise<Page> {
  const res = await get(app, key, url);
  t.equal(res.statusCode, 200, `GET ${url}`);
  const { as_of: asOf, ...body } = res.json();
  t.strictSame(asOf, { complete: true, pending_events: 0 }, `GET ${url}: complete`);
  return body;
}

/** Every item of a list, page by page; `url` already has a query string. */
async function walk(app: App, key: string, url: string): Promise<{ items: Change[]; pages: number }> {
  const items: Change[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await get(app, key, cursor === null ? url : `${url}&cursor=${encodeURIComponent(cursor)}`);
    if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${res.body}`);
    const body: Page = res.json();
    items.push(...body.items);
    cursor = body.next_cursor;
    pages++;
  } while (cursor !== null && pages < 500);
  return { items, pages };
}

const change = (account: string, kind: 'follow' | 'unfollow', m: number, followedFor: number | null = null, followedBack = false, quick = false): Change => ({
  account,
  change: kind,
  at: iso(m),
  followed_for_seconds: followedFor,
  followed_back: followedBack,
  quick,
});

// ---- the main fixture ----------------------------------------------------------------------------

const A = 'tw:ann';

/**
 * b: follows at 0 and again at 10 (a repeat), unfollows at 70; ann follows b at 60.
 * c: follows and unfollows at 5 (the unfollow wins the instant), follows again at 20; ann follows
 *    and unfollows c at 20 (a tie: ann does not follow c then).
 * d: unfollows at 30 with no follow before it, again at 40 (a repeat).
 * e: follows at 15, unfollows at 76 (61 minutes later); ann follows e at 76, the same instant.
 * f: two follow events at 50, one instant.
 * Noise that is no change of ann's: ann following herself, b liking ann, b following someone else.
 */
const ledger = (): Event[] => [
  follow('b', A, 0),
  follow('b', A, 10),
  unfollow('b', A, 70),
  follow(A, 'b', 60),
  follow('c', A, 5),
  unfollow('c', A, 5),
  follow('c', A, 20),
  follow(A, 'c', 20),
  unfollow(A, 'c', 20),
  unfollow('d', A, 30),
  unfollow('d', A, 40),
  follow('e', A, 15),
  unfollow('e', A, 76),
  follow(A, 'e', 76),
  follow('f', A, 50),
  follow('f', A, 50),
  follow(A, A, 35),
  ev('like', 'b', A, 2),
  follow('b', 'zed', 1),
];

/** follower-changes of ann with churn_hours 72 (quick: followed for at most 72 hours). */
const CHANGES = [
  // e followed at 15 and unfollowed at 76: 61 minutes = 3660 s; ann followed e at 76, the same instant.
  change('e', 'unfollow', 76, 3660, true, true),
  // b's latest follow before 70 is the repeat at 10: 60 minutes = 3600 s; ann followed b at 60.
  change('b', 'unfollow', 70, 3600, true, true),
  // f's two events of one instant are one follow.
  change('f', 'follow', 50),
  // d's first mark: an unfollow with no follow before it; the repeat at 40 is no change.
  change('d', 'unfollow', 30),
  // c's previous mark is the unfollow at 5; ann's follow and unfollow of c at 20 tie: not followed back.
  change('c', 'follow', 20),
  change('e', 'follow', 15),
  // The follow of the same instant does not count: c's first mark is this unfollow.
  change('c', 'unfollow', 5),
  // b's follow at 10 repeats this one and is no change.
  change('b', 'follow', 0),
];

const OPEN = { since: null, until: null, churn_hours: 72 };

t.test('follower-changes lists the ledger’s changes of follow state, newest first, with what surrounds each', async (t) => {
  const { app, db } = await testApp(t);
  const tenant = await newTenant(db);
  await ingest(t, app, tenant.key, ledger());
  t.strictSame(await ok(t, app, tenant.readKey, `${path(A)}/follower-changes`), { account: A, window: OPEN, items: CHANGES, next_cursor: null });
});

t.test('churn_hours decides quick: an unfollow exactly churn_hours after the follow is quick, one a minute later is not', async (t) => {
  const { app, db } = await testApp(t);
  const tenant = await newTenant(db);
  await ingest(t, app, tenant.key, ledger());
  const page = await ok(t, app, tenant.readKey, `${path(A)}/follower-changes?churn_hours=1&change=unfollow`);
  t.strictSame(page.window, { since: null, until: null, churn_hours: 1 });
  t.strictSame(page.items, [
    change('e', 'unfollow', 76, 3660, true, false), // 61 minutes > 1 hour
    change('b', 'unfollow', 70, 3600, true, true), // exactly 1 hour: t < u ≤ t + 1 h
    change('d', 'unfollow', 30),
    change('c', 'unfollow', 5),
  ]);
});

t.test('instants keep their microseconds: followed_for_seconds is exact and quick ends one microsecond past churn_hours', async (t) => {
  const { app, db } = await testApp(t);
  const tenant = await newTenant(db);
  await ingest(t, app, tenant.key, [
    follow('x', A, '2026-03-01T10:00:00.000001Z'),
    unfollow('x', A, '2026-03-01T10:00:01.5Z'),
    follow('y', A, '2026-03-01T10:00:00Z'),
    unfollow('y', A, '2026-03-01T11:00:00.000001+00:00'),
  ]);
  const page = await ok(t, app, tenant.readKey, `${path(A)}/follower-changes?change=unfollow&churn_hours=1`);
  t.strictSame(page.items, [
    { account: 'y', change: 'unfollow', at: '2026-03-01T11:00:00.000001Z', followed_for_seconds: 3600.000001, followed_back: false, quick: false },
    { account: 'x', change: 'unfollow', at: '2026-03-01T10:00:01.500000Z', followed_for_seconds: 1.499999, followed_back: false, quick: true },
  ]);
});

t.test('change, since and until select changes: since inclusive, until exclusive', async (t) => {
  const { app, db } = await testApp(t);
  const tenant = await newTenant(db);
  await ingest(t, app, tenant.key, ledger());
  const items = async (query: string) => (await ok(t, app, tenant.readKey, `${path(A)}/follower-changes?${query}`)).items;
  t.strictSame(
    await items('change=unfollow'),
    CHANGES.filter((c) => c.change === 'unfollow'),
  );
  t.strictSame(await items('change=follow'), [change('f', 'follow', 50), change('c', 'follow', 20), change('e', 'follow', 15), change('b', 'follow', 0)]);
  t.strictSame(await items(`since=${at(15)}&until=${at(70)}`), [change('f', 'follow', 50), change('d', 'unfollow', 30), change('c', 'follow', 20), change('e', 'follow', 15)]);
  t.strictSame(await items(`change=unfollow&since=${at(5)}&until=${at(30)}`), [change('c', 'unfollow', 5)]);
  // An offset is the same instant: 01:10+01:00 is 00:10Z.
  const page = await ok(t, app, tenant.readKey, `${path(A)}/follower-changes?since=${encodeURIComponent('2026-01-01T01:10:00+01:00')}`);
  t.strictSame(page.window, { since: iso(10), until: null, churn_hours: 72 });
  t.strictSame(page.items, CHANGES.slice(0, 6), 'e’s follow at 15 included');
  t.strictSame(await items(`until=${at(0)}`), [], 'nothing before the first change');
});

t.test('unfollowers lists each account whose latest mark is an unfollow, with that unfollow, most recent first', async (t) => {
  const { app, db } = await testApp(t);
  const tenant = await newTenant(db);
  await ingest(t, app, tenant.key, ledger());
  // c and f follow ann now; d's latest unfollow is the repeat at 40 (follower-changes lists the one at 30).
  const unfollowers = [change('e', 'unfollow', 76, 3660, true, true), change('b', 'unfollow', 70, 3600, true, true), change('d', 'unfollow', 40)];
  t.strictSame(await ok(t, app, tenant.readKey, `${path(A)}/unfollowers`), { account: A, window: OPEN, items: unfollowers, next_cursor: null });
  const selected = await ok(t, app, tenant.readKey, `${path(A)}/unfollowers?since=${at(40)}&until=${at(76)}&churn_hours=1`);
  t.strictSame(selected.items, [change('b', 'unfollow', 70, 3600, true, true), change('d', 'unfollow', 40)], 'by the unfollow’s instant');
  // b follows again: no longer an unfollower, and the change is listed.
  await ingest(t, app, tenant.key, [follow('b', A, 80)]);
  t.strictSame((await ok(t, app, tenant.readKey, `${path(A)}/unfollowers`)).items, [unfollowers[0], unfollowers[2]]);
  t.strictSame((await ok(t, app, tenant.readKey, `${path(A)}/follower-changes?limit=1`)).items, [change('b', 'follow', 80, null, true)]);
});

t.test('pages of changes on one instant follow each other with no duplicate and no gap, whatever the page size', async (t) => {
  const { app, db } = await testApp(t);
  const tenant = await newTenant(db);
  // Seven followers at one instant, three of them unfollowing at another shared instant, two more apart.
  const fans = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'];
  await ingest(t, app, tenant.key, [...fans.map((f) => follow(f, A, 100)), ...['p2', 'p5', 'p7'].map((f) => unfollow(f, A, 200)), follow('q', A, 150), follow('r', A, 50)]);
  const full = [
    ...['p7', 'p5', 'p2'].map((f) => change(f, 'unfollow', 200, 6000, false, true)),
    change('q', 'follow', 150),
    ...[...fans].reverse().map((f) => change(f, 'follow', 100)),
    change('r', 'follow', 50),
  ];
  t.strictSame((await ok(t, app, tenant.readKey, `${path(A)}/follower-changes?limit=1000`)).items, full);
  for (const limit of [1, 2, 3, 5, 11, 12]) {
    const { items, pages } = await walk(app, tenant.readKey, `${path(A)}/follower-changes?limit=${limit}`);
    t.strictSame(items, full, `limit ${limit}`);
    t.equal(pages, Math.max(1, Math.ceil(full.length / limit)), `limit ${limit}: no empty last page`);
  }
  const unfollowers = ['p7', 'p5', 'p2'].map((f) => change(f, 'unfollow', 200, 6000, false, true));
  for (const limit of [1, 2]) t.strictSame((await walk(app, tenant.readKey, `${path(A)}/unfollowers?limit=${limit}`)).items, unfollowers, `unfollowers, limit ${limit}`);
});

t.test('on random ledgers both lists are what the rules say, and pages of any size concatenate to the whole list', async (t) => {
  const { app, db } = await testApp(t);
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(
      // size 'max': fast-check's default keeps arrays short, and ties need crowded instants.
      fc.array(markArb, { minLength: 10, maxLength: 40, size: 'max' }),
      fc.constantFrom(1, 2, 72),
      fc.integer({ min: 1, max: 7 }),
      async (marks, churnHours, limit) => {
        const tenant = await newTenant(db);
        const events = marksToEvents(marks);
        const res = await app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(tenant.key), payload: { events } });
        if (res.json().accepted !== events.length) throw new Error(res.body);
        for (const account of ['a', 'b']) {
          const changes = modelChanges(marks, account, churnHours);
          const whole = (await walk(app, tenant.readKey, `${path(account)}/follower-changes?churn_hours=${churnHours}&limit=1000`)).items;
          t.strictSame(whole, changes, `follower-changes of ${account}`);
          t.strictSame((await walk(app, tenant.readKey, `${path(account)}/follower-changes?churn_hours=${churnHours}&limit=${limit}`)).items, changes, `…in pages of ${limit}`);
          const unfollowsOnly = (await walk(app, tenant.readKey, `${path(account)}/follower-changes?churn_hours=${churnHours}&change=unfollow&limit=${limit}`)).items;
          t.strictSame(
            unfollowsOnly,
            changes.filter((c) => c.change === 'unfollow'),
            `…unfollows only, in pages of ${limit}`,
          );
          const unfollowers = modelUnfollowers(marks, account, churnHours);
          t.strictSame(
            (await walk(app, tenant.readKey, `${path(account)}/unfollowers?churn_hours=${churnHours}&limit=${limit}`)).items,
            unfollowers,
            `unfollowers of ${account}, pages of ${limit}`,
          );
        }
        runs++;
      },
    ),
    { numRuns: 25, seed: 20261129 },
  );
  t.equal(runs, 25);
});

// ---- errors, auth, isolation ---------------------------------------------------------------------

function assertProblem(t: Test, res: { statusCode: number; headers: Record<string, unknown>; json: () => any }, status: number, code: string, field?: string) {
  t.equal(res.statusCode, status, `${code}: status ${status}`);
  t.equal(res.headers['content-type'], PROBLEM, `${code}: problem+json`);
  const body = res.json();
  t.match(body, { type: `urn:rapport:problem:${code}`, status, code, title: String, detail: String });
  if (field)
    t.ok(
      (body.errors ?? []).some((e: { field: string }) => e.field === field),
      `errors name ${field} (got ${JSON.stringify(body.errors)})`,
    );
}

t.test('bad parameters and cursors are 400 problems naming the field, never a 500', async (t) => {
  const { app, db } = await testApp(t);
  const tenant = await newTenant(db);
  await ingest(t, app, tenant.key, ledger());
  const p = path(A);
  const cursorOf = async (url: string) => {
    const c = (await ok(t, app, tenant.readKey, url)).next_cursor;
    t.type(c, 'string', `${url} has a next page`);
    return encodeURIComponent(c!);
  };
  const changes = await cursorOf(`${p}/follower-changes?limit=1`);
  const unfollows = await cursorOf(`${p}/follower-changes?change=unfollow&limit=1`);
  const unfollowers = await cursorOf(`${p}/unfollowers?limit=1`);
  const tampered = changes.slice(0, -3) + (changes.endsWith('AAA') ? 'BBB' : 'AAA');
  t.equal((await get(app, tenant.readKey, `${p}/follower-changes?limit=1&cursor=${changes}`)).statusCode, 200, 'the query that issued it takes it');
  t.equal((await get(app, tenant.readKey, `${p}/follower-changes?limit=5&churn_hours=1&cursor=${changes}`)).statusCode, 200, 'limit and churn_hours may change between pages');
  const cases: [string, string, string][] = [
    [`${p}/follower-changes?change=both`, 'validation_failed', 'querystring.change'],
    [`${p}/follower-changes?limit=0`, 'validation_failed', 'querystring.limit'],
    [`${p}/follower-changes?limit=1001`, 'validation_failed', 'querystring.limit'],
    [`${p}/follower-changes?churn_hours=0`, 'validation_failed', 'querystring.churn_hours'],
    [`${p}/unfollowers?churn_hours=8761`, 'validation_failed', 'querystring.churn_hours'],
    [`${p}/follower-changes?since=yesterday`, 'validation_failed', 'querystring.since'],
    [`${p}/unfollowers?until=2026-01-01T00:00:00`, 'validation_failed', 'querystring.until'],
    [`${p}/follower-changes?since=${at(10)}&until=${at(10)}`, 'validation_failed', 'querystring.until'],
    [`${p}/follower-changes?churnhours=5`, 'validation_failed', 'querystring.churnhours'],
    [`${p}/unfollowers?change=unfollow`, 'validation_failed', 'querystring.change'],
    [`${p}/follower-changes?consistency=now`, 'validation_failed', 'querystring.consistency'],
    [`${p}/follower-changes?cursor=not-a-cursor`, 'invalid_cursor', 'querystring.cursor'],
    [`${p}/follower-changes?cursor=${tampered}`, 'invalid_cursor', 'querystring.cursor'],
    [`${p}/follower-changes?cursor=${unfollows}`, 'invalid_cursor', 'querystring.cursor'],
    [`${p}/follower-changes?change=follow&cursor=${unfollows}`, 'invalid_cursor', 'querystring.cursor'],
    [`${p}/follower-changes?since=${at(0)}&cursor=${changes}`, 'invalid_cursor', 'querystring.cursor'],
    [`${p}/unfollowers?cursor=${changes}`, 'invalid_cursor', 'querystring.cursor'],
    [`${p}/follower-changes?cursor=${unfollowers}`, 'invalid_cursor', 'querystring.cursor'],
    [`${path('b')}/follower-changes?cursor=${changes}`, 'invalid_cursor', 'querystring.cursor'],
    [`${p}/fans?cursor=${changes}`, 'invalid_cursor', 'querystring.cursor'],
  ];
  for (const [url, code, field] of cases) {
    t.test(url, async (t) => assertProblem(t, await get(app, tenant.readKey, url), 400, code, field));
  }
  assertProblem(t, await get(app, tenant.readKey, `/v1/accounts/${'x'.repeat(257)}/follower-changes`), 400, 'validation_failed', 'params.account');
});

t.test('both lists need a key with scores:read', async (t) => {
  const { app, db } = await testApp(t);
  const tenant = await newTenant(db);
  for (const list of ['follower-changes', 'unfollowers']) {
    assertProblem(t, await app.inject({ method: 'GET', url: `${path(A)}/${list}` }), 401, 'missing_credentials');
    assertProblem(t, await get(app, tenant.writeKey, `${path(A)}/${list}`), 403, 'insufficient_scope');
  }
});

t.test('another workspace with the same account names sees none of these changes, and its cursors do not carry over', async (t) => {
  const { app, db } = await testApp(t);
  const tenant = await newTenant(db);
  const other = await newTenant(db);
  await ingest(t, app, tenant.key, ledger());
  await ingest(t, app, other.key, [follow('g', A, 3)]);
  t.strictSame((await ok(t, app, other.readKey, `${path(A)}/follower-changes`)).items, [change('g', 'follow', 3)]);
  t.strictSame((await ok(t, app, other.readKey, `${path(A)}/unfollowers`)).items, []);
  const cursor = (await ok(t, app, tenant.readKey, `${path(A)}/follower-changes?limit=1`)).next_cursor!;
  assertProblem(t, await get(app, other.readKey, `${path(A)}/follower-changes?limit=1&cursor=${encodeURIComponent(cursor)}`), 400, 'invalid_cursor', 'querystring.cursor');
});

t.test('after an erasure the erased account is in nobody’s changes and its own changes are gone', async (t) => {
  const { app, db } = await testApp(t);
  const tenant = await newTenant(db);
  // b also unfollows c, whose lists must keep only what does not name b.
  await ingest(t, app, tenant.key, [...ledger(), follow('b', 'c', 3), unfollow('b', 'c', 4), follow('d', 'c', 8)]);
  const erase = async (account: string) => {
    const res = await app.inject({ method: 'DELETE', url: path(account), headers: bearer(tenant.writeKey) });
    t.equal(res.statusCode, 200, `${account} erased`);
  };
  await erase('b');
  t.strictSame(
    (await ok(t, app, tenant.readKey, `${path(A)}/follower-changes`)).items,
    CHANGES.filter((c) => c.account !== 'b'),
  );
  t.strictSame((await ok(t, app, tenant.readKey, `${path(A)}/unfollowers`)).items, [change('e', 'unfollow', 76, 3660, true, true), change('d', 'unfollow', 40)]);
  // ann's follow and unfollow of c at 20 are one unfollow, ann's first mark; c followed ann at 20.
  const annLeft = change(A, 'unfollow', 20, null, true);
  t.strictSame((await ok(t, app, tenant.readKey, `${path('c')}/follower-changes`)).items, [annLeft, change('d', 'follow', 8)]);
  t.strictSame((await ok(t, app, tenant.readKey, `${path('c')}/unfollowers`)).items, [annLeft]);
  await erase(A);
  for (const list of ['follower-changes', 'unfollowers']) t.strictSame((await ok(t, app, tenant.readKey, `${path(A)}/${list}`)).items, [], `${list} of the erased account`);
  t.strictSame((await ok(t, app, tenant.readKey, `${path('c')}/follower-changes`)).items, [change('d', 'follow', 8)], 'c keeps what names neither');
  t.strictSame((await ok(t, app, tenant.readKey, `${path('c')}/unfollowers`)).items, []);
});

t.test('a default read right after an acknowledgement sees it; an eventual one answers at once and says what it reflects', async (t) => {
  const { app, db } = await testApp(t);
  const tenant = await newTenant(db);
  for (let i = 0; i < 5; i++) {
    const fan = `fan${i}`;
    for (const e of [follow(fan, A, 10 * i), unfollow(fan, A, 10 * i + 1)]) {
      t.equal((await app.inject({ method: 'POST', url: '/v1/events', headers: bearer(tenant.key), payload: e })).statusCode, 201);
    }
    const unfollowers = await ok(t, app, tenant.readKey, `${path(A)}/unfollowers?limit=1`);
    t.strictSame(unfollowers.items, [change(fan, 'unfollow', 10 * i + 1, 60, false, true)], `read ${i} sees unfollow ${i}`);
    const changes = await ok(t, app, tenant.readKey, `${path(A)}/follower-changes?limit=2`);
    t.strictSame(changes.items, [change(fan, 'unfollow', 10 * i + 1, 60, false, true), change(fan, 'follow', 10 * i)]);
  }
  for (const list of ['follower-changes', 'unfollowers']) {
    const res = await get(app, tenant.readKey, `${path(A)}/${list}?consistency=eventual`);
    t.equal(res.statusCode, 200);
    t.match(res.json().as_of, { complete: Boolean, pending_events: Number }, `${list}: as_of`);
  }
});
