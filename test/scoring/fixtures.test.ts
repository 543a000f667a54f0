import fc from 'fast-check';
import t from 'tap';
import { bearer, newTenant, tenantApp, testApp, type TestApp } from '../helpers.js';

/** Hand-computed fixtures for the edge cases SPEC §3 names, read through the HTTP API. */

const T0 = Date.parse('2026-05-01T00:00:00Z');
const H = 3_600_000;
const iso = (ms: number) => new Date(T0 + ms).toISOString();

async function ingest(ctx: TestApp, key: string, events: object[]) {
  const res = await ctx.app.inject({ method: 'POST', url: '/v1/events/batch', headers: bearer(key), payload: { events } });
  if (res.statusCode !== 200 || res.json().rejected.length) throw new Error(res.body);
  return res.json<{ accepted: number; duplicates: number }>();
}

async function scores(ctx: TestApp, key: string, account: string, query = '') {
  const res = await ctx.app.inject({ method: 'GET', url: `/v1/accounts/${encodeURIComponent(account)}/scores${query}`, headers: bearer(key) });
  if (res.statusCode !== 200) throw new Error(res.body);
  return res.json();
}

// Every value that is not a count is answered rounded to 6 decimal places.
const r = (numerator: number, denominator: number) => ({
  value: denominator === 0 ? null : Math.round((numerator / denominator) * 1e6) / 1e6,
  numerator,
  denominator,
});

t.test('self-directed events are stored but count in no metric', async (t) => {
  const { tenant, ...ctx } = await tenantApp(t);
  const res = await ingest(ctx, tenant.key, [
    { type: 'follow', actor: 'me', target: 'me', occurred_at: iso(0) },
    { type: 'like', actor: 'me', target: 'me', occurred_at: iso(1) },
    { type: 'reply', actor: 'me', target: 'me', occurred_at: iso(2), text: 'talking to myself?' },
  ]);
  t.equal(res.accepted, 3);
  const s = await scores(ctx, tenant.key, 'me');
  t.match(s.reciprocity, { followers: 0, following: 0, mutual: 0, partners_engaged: 0, partners_engaging: 0, response_rate: r(0, 0) });
  t.match(s.engagement, { interactions_received: { like: 0, reply: 0, mention: 0, repost: 0, total: 0 } });
  t.match(s.spam, { follows: 0, peak_daily_follows: 0, like_for_like_ratio: r(0, 0) });
});

t.test('follow state: the latest event wins, unfollow wins a tie, in any arrival order', async (t) => {
  const { tenant, ...ctx } = await tenantApp(t);
  // x→a: unfollow at 2 h arrives before the follow at 1 h: not following.
  await ingest(ctx, tenant.key, [{ type: 'unfollow', actor: 'x', target: 'a', occurred_at: iso(2 * H) }]);
  await ingest(ctx, tenant.key, [{ type: 'follow', actor: 'x', target: 'a', occurred_at: iso(1 * H) }]);
  // y→a: follow and unfollow at the same instant: unfollow wins.
  await ingest(ctx, tenant.key, [{ type: 'follow', actor: 'y', target: 'a', occurred_at: iso(3 * H) }]);
  await ingest(ctx, tenant.key, [{ type: 'unfollow', actor: 'y', target: 'a', occurred_at: iso(3 * H) }]);
  // z→a: unfollow, then a later follow sent first: following.
  await ingest(ctx, tenant.key, [{ type: 'follow', actor: 'z', target: 'a', occurred_at: iso(5 * H) }]);
  await ingest(ctx, tenant.key, [{ type: 'unfollow', actor: 'z', target: 'a', occurred_at: iso(4 * H) }]);
  // a→z: a follows z back, so mutual = 1.
  await ingest(ctx, tenant.key, [{ type: 'follow', actor: 'a', target: 'z', occurred_at: iso(6 * H) }]);
  const s = await scores(ctx, tenant.key, 'a');
  t.match(s.reciprocity, {
    followers: 1,
    following: 1,
    mutual: 1,
    follow_back_rate: r(1, 1),
    followers_followed_back: r(1, 1),
    graph_reciprocity: r(2, 2),
    following_to_followers: r(1, 1),
  });
});

t.test('a window that cuts a follow/unfollow pair counts the follow, and the unfollow past until still makes it quick', async (t) => {
  const { tenant, ...ctx } = await tenantApp(t);
  await ingest(ctx, tenant.key, [
    { type: 'follow', actor: 'a', target: 'b', occurred_at: iso(10 * H) },
    { type: 'unfollow', actor: 'a', target: 'b', occurred_at: iso(30 * H) },
    { type: 'follow', actor: 'a', target: 'c', occurred_at: iso(11 * H) },
    { type: 'unfollow', actor: 'a', target: 'c', occurred_at: iso(11 * H + 73 * H) },
  ]);
  // Window [0 h, 20 h): both follows inside; b's unfollow 20 h later is quick, c's 73 h later is not.
  const w = await scores(ctx, tenant.key, 'a', `?since=${iso(0)}&until=${iso(20 * H)}`);
  t.match(w.spam, { follows: 2, quick_unfollows: 1, follow_churn_ratio: r(1, 2), peak_daily_follows: 2 });
  // The follow graph is the current state: both unfollowed.
  t.match(w.reciprocity, { following: 0 });
  // Window [20 h, 40 h): holds only b's unfollow, no follow.
  const later = await scores(ctx, tenant.key, 'a', `?since=${iso(20 * H)}&until=${iso(40 * H)}`);
  t.match(later.spam, { follows: 0, quick_unfollows: 0, follow_churn_ratio: r(0, 0) });
  // churn_hours=73 makes c's unfollow (exactly 73 h after) quick too.
  const wide = await scores(ctx, tenant.key, 'a', '?churn_hours=73');
  t.match(wide.spam, { follows: 2, quick_unfollows: 2 });
  const narrow = await scores(ctx, tenant.key, 'a', '?churn_hours=19');
  t.match(narrow.spam, { quick_unfollows: 0 });
});

t.test('k identical posts make k − 1 duplicates; text that normalises to empty has no fingerprint', async (t) => {
  const { tenant, ...ctx } = await tenantApp(t);
  await ingest(ctx, tenant.key, [
    { type: 'post', actor: 'p', occurred_at: iso(0), text: 'Same Words' },
    { type: 'post', actor: 'p', occurred_at: iso(1), text: 'same   words' },
    { type: 'post', actor: 'p', occurred_at: iso(2), text: '\u3000SAME words\u0085' },
    { type: 'post', actor: 'p', occurred_at: iso(3), text: 'https://only.a.link' },
    { type: 'post', actor: 'p', occurred_at: iso(4), text: '  www.another.link  ' },
    { type: 'post', actor: 'p', occurred_at: iso(5), text: 'a question? https://x.test/?q' },
    { type: 'post', actor: 'p', occurred_at: iso(6) },
  ]);
  const s = await scores(ctx, tenant.key, 'p');
  // 3 equal posts → 2 duplicates; the two link-only posts normalise to empty and never count; 7 posts.
  t.match(s.spam, {
    posts: 7,
    duplicate_post_ratio: r(2, 7),
    link_post_ratio: r(3, 7),
    // Only "a question? …" keeps a ? once links are removed.
    question_ratio: r(1, 7),
  });
});

t.test('a reply answered exactly 72 hours later counts as answered; one answered 1 ms later does not', async (t) => {
  const { tenant, ...ctx } = await tenantApp(t);
  await ingest(ctx, tenant.key, [
    { type: 'reply', actor: 'x', target: 'a', occurred_at: iso(0) },
    { type: 'mention', actor: 'a', target: 'x', occurred_at: iso(72 * H) },
    { type: 'reply', actor: 'y', target: 'a', occurred_at: iso(0) },
    { type: 'reply', actor: 'a', target: 'y', occurred_at: iso(72 * H + 1) },
    // A like is no answer.
    { type: 'mention', actor: 'z', target: 'a', occurred_at: iso(0) },
    { type: 'like', actor: 'a', target: 'z', occurred_at: iso(1) },
  ]);
  const s = await scores(ctx, tenant.key, 'a');
  t.same(s.reciprocity.response_rate, r(1, 3));
  // In a window ending before the answers, x's reply still counts as answered (the answer may lie past until).
  const w = await scores(ctx, tenant.key, 'a', `?since=${iso(0)}&until=${iso(H)}`);
  t.same(w.reciprocity.response_rate, r(1, 3));
});

t.test('engagement and exchange: per partner counts, like-for-like only without conversation', async (t) => {
  const { tenant, ...ctx } = await tenantApp(t);
  await ingest(ctx, tenant.key, [
    // a ↔ b: likes both ways only: like-for-like.
    { type: 'like', actor: 'a', target: 'b', occurred_at: iso(0) },
    { type: 'like', actor: 'b', target: 'a', occurred_at: iso(1) },
    // a ↔ c: likes both ways and a reply: not like-for-like.
    { type: 'like', actor: 'a', target: 'c', occurred_at: iso(2) },
    { type: 'like', actor: 'c', target: 'a', occurred_at: iso(3) },
    { type: 'reply', actor: 'c', target: 'a', occurred_at: iso(4) },
    // a → d three reposts, d never answers.
    { type: 'repost', actor: 'a', target: 'd', occurred_at: iso(5) },
    { type: 'repost', actor: 'a', target: 'd', occurred_at: iso(6) },
    { type: 'repost', actor: 'a', target: 'd', occurred_at: iso(7) },
    // e follows a and mentions it; f follows a and stays silent.
    { type: 'follow', actor: 'e', target: 'a', occurred_at: iso(8) },
    { type: 'mention', actor: 'e', target: 'a', occurred_at: iso(9) },
    { type: 'follow', actor: 'f', target: 'a', occurred_at: iso(10) },
  ]);
  const s = await scores(ctx, tenant.key, 'a');
  t.match(s.reciprocity, {
    partners_engaged: 3, // b, c, d
    partners_engaging: 3, // b, c, e
    partners_mutual: 2, // b, c
    engagement_reciprocity: r(2, 3),
    // out: b 1, c 1, d 3 = 5; min with in: b 1, c 1, d 0 = 2
    exchange_balance: r(2, 5),
  });
  t.same(s.engagement, {
    interactions_received: { like: 2, reply: 1, mention: 1, repost: 0, total: 4 },
    engaged_followers: 1,
    engaged_follower_ratio: r(1, 2),
    interactions_per_follower: r(4, 2),
  });
  t.same(s.spam.like_for_like_ratio, r(1, 2));
});

t.test('spam flags name the thresholds that raised them, and the score rises with each signal', async (t) => {
  const { tenant, ...ctx } = await tenantApp(t);
  const burst = Array.from({ length: 120 }, (_, i) => ({ type: 'follow', actor: 'bot', target: `t${i}`, occurred_at: iso(i * 1000) }));
  const churn = Array.from({ length: 120 }, (_, i) => ({ type: 'unfollow', actor: 'bot', target: `t${i}`, occurred_at: iso(H + i * 1000) }));
  const links = Array.from({ length: 6 }, (_, i) => ({ type: 'post', actor: 'bot', occurred_at: iso(i), text: `deal number ${i} https://shop.test/${i}` }));
  await ingest(ctx, tenant.key, [...burst, ...links]);
  const before = (await scores(ctx, tenant.key, 'bot')).spam;
  await ingest(ctx, tenant.key, churn);
  const after = (await scores(ctx, tenant.key, 'bot')).spam;
  t.same(after.flags.map((f: { flag: string }) => f.flag).sort(), ['follow_burst', 'follow_churn', 'link_spam']);
  t.same(after.flags.find((f: { flag: string }) => f.flag === 'follow_burst').thresholds, [{ metric: 'peak_daily_follows', op: '>=', threshold: 100, actual: 120 }]);
  t.ok(after.spam_score > before.spam_score, `churn raises the score (${before.spam_score} → ${after.spam_score})`);
  t.ok(after.spam_score <= 1 && after.spam_score >= 0);
  // 1 − (1 − 0.8·1)(1 − 0.8·1)(1 − 0.6·(120−50)/150) with link, churn and burst at those strengths.
  const expected = 1 - (1 - 0.8) * (1 - 0.8) * (1 - 0.6 * (70 / 150));
  t.ok(Math.abs(after.spam_score - expected) < 1e-6, `${after.spam_score} ≈ ${expected}`);
});

t.test('any permutation, batching and number of resends of the same events gives identical documents', async (t) => {
  const ctx = await testApp(t);
  const events = [
    { type: 'follow', actor: 'a', target: 'b', occurred_at: iso(0) },
    { type: 'unfollow', actor: 'a', target: 'b', occurred_at: iso(H) },
    { type: 'follow', actor: 'a', target: 'b', occurred_at: iso(H) },
    { type: 'follow', actor: 'b', target: 'a', occurred_at: iso(2 * H) },
    { type: 'reply', actor: 'b', target: 'a', occurred_at: iso(3 * H), text: 'why?' },
    { type: 'mention', actor: 'a', target: 'b', occurred_at: iso(75 * H) },
    { type: 'mention', actor: 'a', target: 'b', occurred_at: iso(74 * H) },
    { type: 'like', actor: 'c', target: 'a', occurred_at: iso(4 * H) },
    { type: 'like', actor: 'a', target: 'c', occurred_at: iso(5 * H) },
    { type: 'post', actor: 'a', occurred_at: iso(6 * H), text: 'hi https://x.test' },
    { type: 'post', actor: 'a', occurred_at: iso(7 * H), text: 'HI' },
  ];
  const baseline = await newTenant(ctx.db);
  await ingest(ctx, baseline.key, events);
  const expected = await Promise.all(['a', 'b', 'c'].map((x) => scores(ctx, baseline.key, x)));
  await fc.assert(
    fc.asyncProperty(
      fc.shuffledSubarray(events, { minLength: events.length }),
      fc.array(fc.nat(events.length - 1), { maxLength: 6 }),
      fc.integer({ min: 1, max: 5 }),
      async (order, resends, size) => {
        const tenant = await newTenant(ctx.db);
        const sequence = [...order, ...resends.map((i) => events[i]!)];
        for (let i = 0; i < sequence.length; i += size) await ingest(ctx, tenant.key, sequence.slice(i, i + size));
        const got = await Promise.all(['a', 'b', 'c'].map((x) => scores(ctx, tenant.key, x)));
        t.same(got, expected);
      },
    ),
    { numRuns: 25, seed: 42 },
  );
});
