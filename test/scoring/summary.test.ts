import t from 'tap';
import { DEFAULT_CHURN_HOURS, emptySummary, HOUR_MICROS, MAX_CHURN_HOURS, RESPONSE_WINDOW_HOURS } from '../../src/scoring/summary.js';

/** The Summary every metric is computed from, and the time constants of SPEC §3. */

t.test('an empty summary counts nothing', async (t) => {
  t.strictSame(emptySummary(), {
    followers: 0,
    following: 0,
    mutual: 0,
    partnersEngaged: 0,
    partnersEngaging: 0,
    partnersMutual: 0,
    exchangeMin: 0,
    interactionsSent: 0,
    received: { like: 0, reply: 0, mention: 0, repost: 0 },
    engagedFollowers: 0,
    conversationsReceived: 0,
    conversationsAnswered: 0,
    posts: 0,
    linkPosts: 0,
    questionPosts: 0,
    duplicatePosts: 0,
    follows: 0,
    quickUnfollows: 0,
    peakDailyFollows: 0,
    likedAccounts: 0,
    likeForLikeAccounts: 0,
  });
});

t.test('each empty summary is a fresh object, nested counts included', async (t) => {
  const a = emptySummary();
  a.followers = 3;
  a.received.like = 5;
  const b = emptySummary();
  t.equal(b.followers, 0);
  t.equal(b.received.like, 0);
});

t.test('a message is answered within 72 hours and churn_hours defaults to 72', async (t) => {
  t.equal(RESPONSE_WINDOW_HOURS, 72);
  t.equal(DEFAULT_CHURN_HOURS, 72);
});

t.test('the longest churn_hours is a year of 365 days', async (t) => {
  t.equal(MAX_CHURN_HOURS, 365 * 24);
});

t.test('an hour is 3,600,000,000 microseconds', async (t) => {
  t.equal(HOUR_MICROS, 3_600_000_000n);
});
