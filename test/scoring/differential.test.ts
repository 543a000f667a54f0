import fc from 'fast-check';
import t from 'tap';
import { bearer, newTenant, testApp, type TestApp } from '../helpers.js';
import { referenceMetrics, type RefEvent } from '../reference/naive.js';

/**
 * The service against test/reference/naive.ts, an independent and deliberately simple reading of
 * SPEC §3, on random event sets sent in random order, split into random batches, with resends.
 */

const ACCOUNTS = ['a', 'b', 'c', 'd', 'e'];
const TEXTS = [undefined, 'hello world', 'Hello   WORLD', 'is this thing on?', 'buy now https://spam.example/x', 'www.example.com?', '   ', 'https://only.link'];
const BASE = Date.parse('2026-03-01T00:00:00Z');
const HOUR = 3_600_000;

// Offsets in minutes that land exactly on and just past the 72-hour horizons, plus ordinary ones.
const offset = fc.oneof(
  fc.integer({ min: 0, max: 6 * 24 * 60 }).map((m) => m * 60_000),
  fc.constantFrom(0, 72 * HOUR, 72 * HOUR + 1, 24 * HOUR, 2 * HOUR),
);

const eventArb = fc
  .record({
    type: fc.constantFrom('follow', 'unfollow', 'like', 'reply', 'mention', 'repost', 'post', 'follow', 'unfollow', 'like'),
    actor: fc.constantFrom(...ACCOUNTS),
    target: fc.constantFrom(...ACCOUNTS),
    at: offset,
    text: fc.constantFrom(...TEXTS),
    flags: fc.constantFrom<object>({}, {}, { has_link: true }, { is_question: true }, { has_link: false }),
  })
  .map((e) => {
    const base: Record<string, unknown> = { type: e.type, actor: e.actor, occurred_at: new Date(BASE + e.at).toISOString() };
    if (e.type !== 'post') base.target = e.target;
    if ((e.type === 'post' || e.type === 'reply' || e.type === 'mention') && e.text !== undefined) base.text = e.text;
    if (e.type === 'post') Object.assign(base, e.flags);
    return base;
  });

const toRef = (e: Record<string, unknown>): RefEvent => ({
  type: e.type as RefEvent['type'],
  actor: e.actor as string,
  ...(e.target !== undefined ? { target: e.target as string } : {}),
  occurredAt: e.occurred_at as string,
  ...(e.text !== undefined ? { text: e.text as string } : {}),
  ...(e.has_link !== undefined ? { hasLink: e.has_link as boolean } : {}),
  ...(e.is_question !== undefined ? { isQuestion: e.is_question as boolean } : {}),
});

async function ingestShuffled(ctx: TestApp, key: string, events: Record<string, unknown>[], seed: number) {
  const rng = fc.sample(fc.integer({ min: 0, max: 1_000_000 }), { seed, numRuns: events.length * 3 + 3 });
  let r = 0;
  const order = events
    .map((e) => ({ e, k: rng[r++]! }))
    .sort((x, y) => x.k - y.k)
    .map((x) => x.e);
  // Some events are sent twice: resends must change nothing.
  const withResends = [...order, ...order.filter((_, i) => rng[(i + r) % rng.length]! % 4 === 0)];
  for (let i = 0; i < withResends.length;) {
    const size = 1 + (rng[r++ % rng.length]! % 25);
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/events/batch',
      headers: bearer(key),
      payload: { events: withResends.slice(i, i + size) },
    });
    if (res.statusCode !== 200 || res.json().rejected.length > 0) throw new Error(`ingest failed: ${res.body}`);
    i += size;
  }
}

async function serviceScores(ctx: TestApp, key: string, account: string, query = '') {
  const res = await ctx.app.inject({ method: 'GET', url: `/v1/accounts/${account}/scores${query}`, headers: bearer(key) });
  if (res.statusCode !== 200) throw new Error(res.body);
  const body = res.json();
  const { spam_score: _s, signals: _g, flags: _f, ...spam } = body.spam;
  return { reciprocity: body.reciprocity, engagement: body.engagement, spam };
}

t.test('every metric agrees with the naive reference on random events, all time and windowed', async (t) => {
  const ctx = await testApp(t);
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(eventArb, { minLength: 1, maxLength: 60 }),
      fc.integer(),
      fc.integer({ min: 0, max: 5 * 24 }),
      fc.integer({ min: 1, max: 5 * 24 }),
      fc.constantFrom(72, 1, 24, 100),
      async (events, seed, sinceH, spanH, churn) => {
        const tenant = await newTenant(ctx.db);
        await ingestShuffled(ctx, tenant.key, events, seed);
        const refs = events.map(toRef);
        const since = new Date(BASE + sinceH * HOUR);
        const until = new Date(BASE + (sinceH + spanH) * HOUR);
        for (const account of ACCOUNTS) {
          const allTime = await serviceScores(ctx, tenant.key, account, `?churn_hours=${churn}`);
          t.same(allTime, referenceMetrics(refs, account, { churnHours: churn }), `all time, ${account}`);
          const windowed = await serviceScores(ctx, tenant.key, account, `?since=${since.toISOString()}&until=${until.toISOString()}&churn_hours=${churn}`);
          t.same(windowed, referenceMetrics(refs, account, { since, until, churnHours: churn }), `window, ${account}`);
        }
        n++;
      },
    ),
    { numRuns: 40, seed: 20261125 },
  );
  t.equal(n, 40);
});

t.test('erasing an account leaves every score as if its events had never been sent', async (t) => {
  const ctx = await testApp(t);
  await fc.assert(
    fc.asyncProperty(fc.array(eventArb, { minLength: 1, maxLength: 60 }), fc.integer(), fc.constantFrom(...ACCOUNTS), async (events, seed, gone) => {
      const erased = await newTenant(ctx.db);
      const clean = await newTenant(ctx.db);
      await ingestShuffled(ctx, erased.key, events, seed);
      const del = await ctx.app.inject({ method: 'DELETE', url: `/v1/accounts/${gone}`, headers: bearer(erased.key) });
      t.equal(del.statusCode, 200);
      const remaining = events.filter((e) => e.actor !== gone && e.target !== gone);
      await ingestShuffled(ctx, clean.key, remaining, seed + 1);
      for (const account of ACCOUNTS) {
        const a = await serviceScores(ctx, erased.key, account);
        const b = await serviceScores(ctx, clean.key, account);
        t.same(a, b, `${account} after erasing ${gone}`);
        t.same(a, referenceMetrics(remaining.map(toRef), account), `${account} matches the reference`);
      }
      // The stored ranking agrees too.
      const rank = async (key: string) => (await ctx.app.inject({ method: 'GET', url: '/v1/accounts?sort=spam_score&limit=10', headers: bearer(key) })).json().items;
      t.same(await rank(erased.key), await rank(clean.key), 'ranking');
    }),
    { numRuns: 20, seed: 7 },
  );
});
