import fc from 'fast-check';
import t from 'tap';
import { engagement, engagementSchema, ratio, reciprocity, reciprocitySchema, spam, spamSchema } from '../../src/scoring/metrics.js';
import { emptySummary, type Summary } from '../../src/scoring/summary.js';
import { holds } from '../property.js';

/**
 * The three sections of SPEC §3 computed from a Summary, with no database: hand-worked summaries,
 * null ratios when a denominator is 0, and the sections' schemas accepting whatever is computed.
 */

const NULL = { value: null, numerator: 0, denominator: 0 };

const summary = (s: Partial<Summary>): Summary => ({ ...emptySummary(), ...s });

// ---------------------------------------------------------------------------------------------
// ratio
// ---------------------------------------------------------------------------------------------

t.test('a ratio keeps its numerator and denominator beside the value', async (t) => {
  t.strictSame(ratio(1, 4), { value: 0.25, numerator: 1, denominator: 4 });
});

t.test('a ratio whose denominator is 0 is null, not 0 and not an error', async (t) => {
  t.strictSame(ratio(0, 0), NULL);
  t.strictSame(ratio(3, 0), { value: null, numerator: 3, denominator: 0 });
});

t.test('a ratio of 0 over a positive denominator is 0, not null', async (t) => {
  t.strictSame(ratio(0, 5), { value: 0, numerator: 0, denominator: 5 });
});

// ---------------------------------------------------------------------------------------------
// reciprocity
// ---------------------------------------------------------------------------------------------

t.test('an account with no events has zero counts and null reciprocity ratios', async (t) => {
  t.strictSame(reciprocity(emptySummary()), {
    followers: 0,
    following: 0,
    mutual: 0,
    follow_back_rate: NULL,
    followers_followed_back: NULL,
    graph_reciprocity: NULL,
    following_to_followers: NULL,
    partners_engaged: 0,
    partners_engaging: 0,
    partners_mutual: 0,
    engagement_reciprocity: NULL,
    exchange_balance: NULL,
    response_rate: NULL,
  });
});

t.test('reciprocity ratios are computed from the summary as SPEC §3 defines them', async (t) => {
  // A follows B and C; B and D to J follow A: followers 8, following 2, mutual 1 (B).
  // networkx reciprocity(G, A) = 2·|pred ∩ succ| / (|pred| + |succ|) = 2·1 / (8 + 2) = 0.2.
  // A interacted with 5 accounts, 3 interacted with A, 2 both ways; Σ min = 6 of 8 sent;
  // 4 replies/mentions received, 3 answered.
  const s = summary({
    followers: 8,
    following: 2,
    mutual: 1,
    partnersEngaged: 5,
    partnersEngaging: 3,
    partnersMutual: 2,
    exchangeMin: 6,
    interactionsSent: 8,
    conversationsReceived: 4,
    conversationsAnswered: 3,
  });
  t.strictSame(reciprocity(s), {
    followers: 8,
    following: 2,
    mutual: 1,
    follow_back_rate: { value: 0.5, numerator: 1, denominator: 2 },
    followers_followed_back: { value: 0.125, numerator: 1, denominator: 8 },
    graph_reciprocity: { value: 0.2, numerator: 2, denominator: 10 },
    following_to_followers: { value: 0.25, numerator: 2, denominator: 8 },
    partners_engaged: 5,
    partners_engaging: 3,
    partners_mutual: 2,
    engagement_reciprocity: { value: 0.4, numerator: 2, denominator: 5 },
    exchange_balance: { value: 0.75, numerator: 6, denominator: 8 },
    response_rate: { value: 0.75, numerator: 3, denominator: 4 },
  });
});

t.test('an account followed by others but following no one has a null follow-back rate and a 0 following ratio', async (t) => {
  const r = reciprocity(summary({ followers: 3 }));
  t.strictSame(r.follow_back_rate, NULL);
  t.strictSame(r.followers_followed_back, { value: 0, numerator: 0, denominator: 3 });
  t.strictSame(r.graph_reciprocity, { value: 0, numerator: 0, denominator: 3 });
  t.strictSame(r.following_to_followers, { value: 0, numerator: 0, denominator: 3 });
});

t.test('an account following others with no follower has a null following ratio', async (t) => {
  const r = reciprocity(summary({ following: 2 }));
  t.strictSame(r.following_to_followers, { value: null, numerator: 2, denominator: 0 });
  t.strictSame(r.follow_back_rate, { value: 0, numerator: 0, denominator: 2 });
});

// ---------------------------------------------------------------------------------------------
// engagement
// ---------------------------------------------------------------------------------------------

t.test('an account with no events has zero interactions and null engagement ratios', async (t) => {
  t.strictSame(engagement(emptySummary()), {
    interactions_received: { like: 0, reply: 0, mention: 0, repost: 0, total: 0 },
    engaged_followers: 0,
    engaged_follower_ratio: NULL,
    interactions_per_follower: NULL,
  });
});

t.test('interactions received are totalled and divided by followers', async (t) => {
  // 3 + 2 + 1 + 0 = 6 interactions over 4 followers, 1 of whom engaged.
  const s = summary({ followers: 4, engagedFollowers: 1, received: { like: 3, reply: 2, mention: 1, repost: 0 } });
  t.strictSame(engagement(s), {
    interactions_received: { like: 3, reply: 2, mention: 1, repost: 0, total: 6 },
    engaged_followers: 1,
    engaged_follower_ratio: { value: 0.25, numerator: 1, denominator: 4 },
    interactions_per_follower: { value: 1.5, numerator: 6, denominator: 4 },
  });
});

t.test('interactions received with no follower give a null ratio per follower', async (t) => {
  const e = engagement(summary({ received: { like: 2, reply: 0, mention: 0, repost: 1 } }));
  t.strictSame(e.interactions_per_follower, { value: null, numerator: 3, denominator: 0 });
});

// ---------------------------------------------------------------------------------------------
// spam
// ---------------------------------------------------------------------------------------------

t.test('an account with no events has zero spam counts, null ratios, a score of 0 and no flag', async (t) => {
  const s = spam(emptySummary());
  t.strictSame(
    { ...s, signals: undefined },
    {
      posts: 0,
      link_post_ratio: NULL,
      question_ratio: NULL,
      duplicate_post_ratio: NULL,
      follows: 0,
      quick_unfollows: 0,
      follow_churn_ratio: NULL,
      peak_daily_follows: 0,
      like_for_like_ratio: NULL,
      spam_score: 0,
      signals: undefined,
      flags: [],
    },
  );
  t.ok(s.signals.every((x) => x.strength === 0 && x.contribution === 0));
});

t.test('a spammer summary gives its ratios, the documented score and every flag', async (t) => {
  // 10 posts: 9 with links, none a question, 6 repeats; 20 follows, 12 undone quickly, 120 in one day;
  // 10 liked accounts, 9 like-for-like; 2,000 followers, 10 engaged (0.005).
  const s = spam(
    summary({
      posts: 10,
      linkPosts: 9,
      questionPosts: 0,
      duplicatePosts: 6,
      follows: 20,
      quickUnfollows: 12,
      peakDailyFollows: 120,
      likedAccounts: 10,
      likeForLikeAccounts: 9,
      followers: 2000,
      engagedFollowers: 10,
    }),
  );
  t.strictSame(s.link_post_ratio, { value: 0.9, numerator: 9, denominator: 10 });
  t.strictSame(s.question_ratio, { value: 0, numerator: 0, denominator: 10 });
  t.strictSame(s.duplicate_post_ratio, { value: 0.6, numerator: 6, denominator: 10 });
  t.strictSame(s.follow_churn_ratio, { value: 0.6, numerator: 12, denominator: 20 });
  t.strictSame(s.like_for_like_ratio, { value: 0.9, numerator: 9, denominator: 10 });
  t.equal(s.posts, 10);
  t.equal(s.follows, 20);
  t.equal(s.quick_unfollows, 12);
  t.equal(s.peak_daily_follows, 120);
  // strengths: link 0.9·(1 − 0)·1 = 0.9; duplicates 0.6; churn 0.6; burst (120 − 50)/150 = 0.466667;
  // like-for-like 0.9; low engagement (1 − 0.005)·1 = 0.995.
  t.strictSame(s.signals, [
    { signal: 'link_spam', strength: 0.9, weight: 0.8, contribution: 0.72 },
    { signal: 'duplicate_posts', strength: 0.6, weight: 0.7, contribution: 0.42 },
    { signal: 'follow_churn', strength: 0.6, weight: 0.8, contribution: 0.48 },
    { signal: 'follow_burst', strength: 0.466667, weight: 0.6, contribution: 0.28 },
    { signal: 'like_for_like', strength: 0.9, weight: 0.7, contribution: 0.63 },
    { signal: 'low_engagement', strength: 0.995, weight: 0.5, contribution: 0.4975 },
  ]);
  // 1 − 0.28 × 0.58 × 0.52 × 0.72 × 0.37 × 0.5025 = 1 − 0.011304715968 = 0.988695 (six decimals).
  t.equal(s.spam_score, 0.988695);
  t.strictSame(
    s.flags.map((f) => f.flag),
    ['link_spam', 'duplicate_posts', 'follow_churn', 'follow_burst', 'like_for_like', 'low_engagement'],
  );
  t.strictSame(s.flags.find((f) => f.flag === 'low_engagement')?.thresholds, [
    { metric: 'followers', op: '>=', threshold: 1000, actual: 2000 },
    { metric: 'engaged_follower_ratio', op: '<', threshold: 0.01, actual: 0.005 },
  ]);
});

t.test('a question in every post halves the link-spam signal', async (t) => {
  // 5 posts, all links, all questions: 1 × (1 − 1/2) × 1 = 0.5 → 0.8 × 0.5 = 0.4; no link_spam flag.
  const s = spam(summary({ posts: 5, linkPosts: 5, questionPosts: 5 }));
  t.equal(s.spam_score, 0.4);
  t.strictSame(s.flags, []);
});

t.test('followers with no engagement ratio data do not count as low engagement', async (t) => {
  // followers 0 → engaged_follower_ratio null → the low-engagement signal is 0.
  const s = spam(summary({ followers: 0, engagedFollowers: 0 }));
  t.equal(s.signals.find((x) => x.signal === 'low_engagement')?.strength, 0);
});

// ---------------------------------------------------------------------------------------------
// Properties over any summary
// ---------------------------------------------------------------------------------------------

const n = fc.nat({ max: 1_000_000 });
const summaryArb: fc.Arbitrary<Summary> = fc
  .record({
    followers: n,
    following: n,
    mutual: n,
    partnersEngaged: n,
    partnersEngaging: n,
    partnersMutual: n,
    exchangeMin: n,
    interactionsSent: n,
    received: fc.record({ like: n, reply: n, mention: n, repost: n }),
    engagedFollowers: n,
    conversationsReceived: n,
    conversationsAnswered: n,
    posts: n,
    linkPosts: n,
    questionPosts: n,
    duplicatePosts: n,
    follows: n,
    quickUnfollows: n,
    peakDailyFollows: n,
    likedAccounts: n,
    likeForLikeAccounts: n,
  })
  // What ingest guarantees: a part never exceeds its whole.
  .map((s) => ({
    ...s,
    mutual: Math.min(s.mutual, s.followers, s.following),
    partnersMutual: Math.min(s.partnersMutual, s.partnersEngaged, s.partnersEngaging),
    exchangeMin: Math.min(s.exchangeMin, s.interactionsSent),
    engagedFollowers: Math.min(s.engagedFollowers, s.followers),
    conversationsAnswered: Math.min(s.conversationsAnswered, s.conversationsReceived),
    linkPosts: Math.min(s.linkPosts, s.posts),
    questionPosts: Math.min(s.questionPosts, s.posts),
    duplicatePosts: Math.min(s.duplicatePosts, s.posts),
    quickUnfollows: Math.min(s.quickUnfollows, s.follows),
    peakDailyFollows: Math.min(s.peakDailyFollows, s.follows),
    likeForLikeAccounts: Math.min(s.likeForLikeAccounts, s.likedAccounts),
  }));

type RatioLike = { value: number | null; numerator: number; denominator: number };
const isRatio = (v: unknown): v is RatioLike => typeof v === 'object' && v !== null && 'denominator' in v;

t.test('every ratio of every section is null exactly when its denominator is 0, and numerator / denominator to six decimals otherwise', async (t) => {
  holds(
    t,
    fc.property(summaryArb, (s) => {
      const ratios = [reciprocity(s), engagement(s), spam(s)].flatMap((section) => Object.values(section).filter(isRatio));
      return ratios.every((r) => (r.denominator === 0 ? r.value === null : r.value !== null && Math.abs(r.value - r.numerator / r.denominator) <= 5e-7));
    }),
    { seed: 1521, numRuns: 300 },
  );
});

t.test('the sections computed from any summary satisfy their own schemas', async (t) => {
  holds(
    t,
    fc.property(
      summaryArb,
      (s) => reciprocitySchema.safeParse(reciprocity(s)).success && engagementSchema.safeParse(engagement(s)).success && spamSchema.safeParse(spam(s)).success,
    ),
    { seed: 1522, numRuns: 200 },
  );
});

t.test('every share, graph reciprocity included, and the spam score lie in [0, 1]', async (t) => {
  holds(
    t,
    fc.property(summaryArb, (s) => {
      const r = reciprocity(s);
      const e = engagement(s);
      const p = spam(s);
      const shares = [
        r.follow_back_rate,
        r.followers_followed_back,
        r.graph_reciprocity,
        r.engagement_reciprocity,
        r.exchange_balance,
        r.response_rate,
        e.engaged_follower_ratio,
        p.link_post_ratio,
        p.question_ratio,
        p.duplicate_post_ratio,
        p.follow_churn_ratio,
        p.like_for_like_ratio,
      ];
      return shares.every((x) => x.value === null || (x.value >= 0 && x.value <= 1)) && p.spam_score >= 0 && p.spam_score <= 1;
    }),
    { seed: 1523, numRuns: 300 },
  );
});
