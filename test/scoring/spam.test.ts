import fc from 'fast-check';
import t from 'tap';
import { raisedFlags, signalStrengths, spamScore, type SignalInputs } from '../../src/scoring/spam.js';
import { holds } from '../property.js';

/**
 * spam_score and flags (SPEC §3) from their inputs, with no database: the documented formula
 * worked out by hand on small cases, the thresholds at and just past their edges, and properties
 * for the range [0, 1] and monotonicity in each signal.
 */

const QUIET: SignalInputs = {
  posts: 0,
  linkPostRatio: null,
  questionRatio: null,
  duplicatePostRatio: null,
  follows: 0,
  followChurnRatio: null,
  peakDailyFollows: 0,
  likedAccounts: 0,
  likeForLikeRatio: null,
  followers: 0,
  engagedFollowerRatio: null,
};
const inputs = (s: Partial<SignalInputs>): SignalInputs => ({ ...QUIET, ...s });
const signal = (s: Partial<SignalInputs>, name: string) => spamScore(inputs(s)).signals.find((x) => x.signal === name);
const flagNames = (s: Partial<SignalInputs>) => raisedFlags(inputs(s)).map((f) => f.flag);

// ---------------------------------------------------------------------------------------------
// spam_score
// ---------------------------------------------------------------------------------------------

t.test('an account with no activity scores 0 with every signal at strength 0', async (t) => {
  t.strictSame(spamScore(QUIET), {
    score: 0,
    signals: [
      { signal: 'link_spam', strength: 0, weight: 0.8, contribution: 0 },
      { signal: 'duplicate_posts', strength: 0, weight: 0.7, contribution: 0 },
      { signal: 'follow_churn', strength: 0, weight: 0.8, contribution: 0 },
      { signal: 'follow_burst', strength: 0, weight: 0.6, contribution: 0 },
      { signal: 'like_for_like', strength: 0, weight: 0.7, contribution: 0 },
      { signal: 'low_engagement', strength: 0, weight: 0.5, contribution: 0 },
    ],
  });
});

t.test('link spam is the link ratio, halved by questions, at full strength from five posts', async (t) => {
  // 1 × (1 − 0.5 / 2) × min(1, 10 / 5) = 0.75; contribution 0.8 × 0.75 = 0.6; alone it is the score.
  const s = { posts: 10, linkPostRatio: 1, questionRatio: 0.5 };
  t.strictSame(signal(s, 'link_spam'), { signal: 'link_spam', strength: 0.75, weight: 0.8, contribution: 0.6 });
  t.equal(spamScore(inputs(s)).score, 0.6);
});

t.test('link spam of two posts counts two fifths', async (t) => {
  // 1 × (1 − 0) × 2 / 5 = 0.4; 0.8 × 0.4 = 0.32.
  t.strictSame(signal({ posts: 2, linkPostRatio: 1, questionRatio: 0 }, 'link_spam'), {
    signal: 'link_spam',
    strength: 0.4,
    weight: 0.8,
    contribution: 0.32,
  });
});

t.test('duplicate posts are the duplicate ratio at full strength from five posts', async (t) => {
  // 0.4 × min(1, 5 / 5) = 0.4; 0.7 × 0.4 = 0.28.
  t.strictSame(signal({ posts: 5, duplicatePostRatio: 0.4 }, 'duplicate_posts'), {
    signal: 'duplicate_posts',
    strength: 0.4,
    weight: 0.7,
    contribution: 0.28,
  });
});

t.test('follow churn is the churn ratio at full strength from ten follows', async (t) => {
  // 1 × 5 / 10 = 0.5 and 0.5 × min(1, 20 / 10) = 0.5; 0.8 × 0.5 = 0.4 either way.
  const expected = { signal: 'follow_churn', strength: 0.5, weight: 0.8, contribution: 0.4 };
  t.strictSame(signal({ follows: 5, followChurnRatio: 1 }, 'follow_churn'), expected);
  t.strictSame(signal({ follows: 20, followChurnRatio: 0.5 }, 'follow_churn'), expected);
});

t.test('a follow burst starts above 50 follows a day and is full at 200', async (t) => {
  // (peak − 50) / 150 clamped to [0, 1]; weight 0.6.
  t.equal(signal({ peakDailyFollows: 50 }, 'follow_burst')?.strength, 0);
  t.strictSame(signal({ peakDailyFollows: 125 }, 'follow_burst'), {
    signal: 'follow_burst',
    strength: 0.5,
    weight: 0.6,
    contribution: 0.3,
  });
  t.equal(signal({ peakDailyFollows: 200 }, 'follow_burst')?.strength, 1);
  t.equal(signal({ peakDailyFollows: 5000 }, 'follow_burst')?.strength, 1);
});

t.test('like-for-like is its ratio at full strength from ten liked accounts', async (t) => {
  // 0.5 × min(1, 10 / 10) = 0.5; 0.7 × 0.5 = 0.35.
  t.strictSame(signal({ likedAccounts: 10, likeForLikeRatio: 0.5 }, 'like_for_like'), {
    signal: 'like_for_like',
    strength: 0.5,
    weight: 0.7,
    contribution: 0.35,
  });
});

t.test('low engagement is the share of followers who never interact, at full strength from 1,000 followers', async (t) => {
  // (1 − 0) × 500 / 1000 = 0.5 → 0.25; (1 − 0.25) × min(1, 2000 / 1000) = 0.75 → 0.375.
  t.strictSame(signal({ followers: 500, engagedFollowerRatio: 0 }, 'low_engagement'), {
    signal: 'low_engagement',
    strength: 0.5,
    weight: 0.5,
    contribution: 0.25,
  });
  t.equal(signal({ followers: 2000, engagedFollowerRatio: 0.25 }, 'low_engagement')?.contribution, 0.375);
});

t.test('a signal whose ratio is null (no data) has strength 0', async (t) => {
  const strengths = signalStrengths(inputs({ posts: 10, follows: 10, likedAccounts: 10, followers: 5000 }));
  t.strictSame(strengths, {
    link_spam: 0,
    duplicate_posts: 0,
    follow_churn: 0,
    follow_burst: 0,
    like_for_like: 0,
    low_engagement: 0,
  });
});

t.test('two full signals combine as a noisy-OR', async (t) => {
  // link spam 0.8 and follow burst 0.6: 1 − (1 − 0.8)(1 − 0.6) = 1 − 0.08 = 0.92.
  t.equal(spamScore(inputs({ posts: 5, linkPostRatio: 1, questionRatio: 0, peakDailyFollows: 200 })).score, 0.92);
});

t.test('every signal at full strength scores just under 1', async (t) => {
  // 1 − 0.2 × 0.3 × 0.2 × 0.4 × 0.3 × 0.5 = 1 − 0.00072 = 0.99928.
  const all = {
    posts: 5,
    linkPostRatio: 1,
    questionRatio: 0,
    duplicatePostRatio: 1,
    follows: 10,
    followChurnRatio: 1,
    peakDailyFollows: 200,
    likedAccounts: 10,
    likeForLikeRatio: 1,
    followers: 1000,
    engagedFollowerRatio: 0,
  };
  t.equal(spamScore(all).score, 0.99928);
});

t.test('the score, strengths and contributions are rounded to six decimals', async (t) => {
  // duplicates 1/3 over 5 posts: strength 0.333333…, contribution 0.7 / 3 = 0.233333….
  const r = spamScore(inputs({ posts: 5, duplicatePostRatio: 1 / 3 }));
  t.equal(r.score, 0.233333);
  t.strictSame(r.signals[1], { signal: 'duplicate_posts', strength: 0.333333, weight: 0.7, contribution: 0.233333 });
});

const ratioArb = fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null, freq: 4 });
const inputsArb: fc.Arbitrary<SignalInputs> = fc.record({
  posts: fc.nat({ max: 20 }),
  linkPostRatio: ratioArb,
  questionRatio: ratioArb,
  duplicatePostRatio: ratioArb,
  follows: fc.nat({ max: 30 }),
  followChurnRatio: ratioArb,
  peakDailyFollows: fc.nat({ max: 400 }),
  likedAccounts: fc.nat({ max: 30 }),
  likeForLikeRatio: ratioArb,
  followers: fc.nat({ max: 3000 }),
  engagedFollowerRatio: ratioArb,
});

t.test('the score, every strength and every contribution lie in [0, 1]', async (t) => {
  holds(
    t,
    fc.property(inputsArb, (s) => {
      const { score, signals } = spamScore(s);
      const inUnit = (x: number) => x >= 0 && x <= 1;
      return inUnit(score) && signals.every((x) => inUnit(x.strength) && inUnit(x.contribution));
    }),
    { seed: 1511, numRuns: 1000 },
  );
});

t.test('the score is the noisy-OR of the contributions returned', async (t) => {
  holds(
    t,
    fc.property(inputsArb, (s) => {
      const { score, signals } = spamScore(s);
      const combined = 1 - signals.reduce((p, x) => p * (1 - x.contribution), 1);
      return Math.abs(score - combined) < 1e-5;
    }),
    { seed: 1512, numRuns: 500 },
  );
});

/** Each input, and the direction in which it makes an account look more like spam. */
const SPAMWARD: [keyof SignalInputs, 'up' | 'down'][] = [
  ['posts', 'up'],
  ['linkPostRatio', 'up'],
  ['questionRatio', 'down'],
  ['duplicatePostRatio', 'up'],
  ['follows', 'up'],
  ['followChurnRatio', 'up'],
  ['peakDailyFollows', 'up'],
  ['likedAccounts', 'up'],
  ['likeForLikeRatio', 'up'],
  ['followers', 'up'],
  ['engagedFollowerRatio', 'down'],
];

for (const [field, direction] of SPAMWARD) {
  t.test(`the score never falls when ${field} moves ${direction === 'up' ? 'up' : 'down'}, all else equal`, async (t) => {
    const isRatio = field.endsWith('Ratio');
    const valueArb = isRatio ? fc.double({ min: 0, max: 1, noNaN: true }) : fc.nat({ max: 3000 });
    holds(
      t,
      fc.property(inputsArb, valueArb, valueArb, (s, x, y) => {
        const [lo, hi] = x <= y ? [x, y] : [y, x];
        const [calm, spammy] = direction === 'up' ? [lo, hi] : [hi, lo];
        return spamScore({ ...s, [field]: spammy }).score >= spamScore({ ...s, [field]: calm }).score;
      }),
      { seed: 1513, numRuns: 300 },
    );
  });
}

// ---------------------------------------------------------------------------------------------
// flags
// ---------------------------------------------------------------------------------------------

t.test('an account with no activity raises no flag', async (t) => {
  t.strictSame(raisedFlags(QUIET), []);
});

t.test('link_spam is raised at 5 posts, a link ratio of 0.8 and a question ratio of 0.1, with its thresholds and actual values', async (t) => {
  const flags = raisedFlags(inputs({ posts: 5, linkPostRatio: 0.8, questionRatio: 0.1 }));
  t.equal(flags.length, 1);
  t.equal(flags[0]?.flag, 'link_spam');
  t.type(flags[0]?.description, 'string');
  t.strictSame(flags[0]?.thresholds, [
    { metric: 'posts', op: '>=', threshold: 5, actual: 5 },
    { metric: 'link_post_ratio', op: '>=', threshold: 0.8, actual: 0.8 },
    { metric: 'question_ratio', op: '<=', threshold: 0.1, actual: 0.1 },
  ]);
});

t.test('link_spam is not raised below 5 posts, below a link ratio of 0.8 or above a question ratio of 0.1', async (t) => {
  t.strictSame(flagNames({ posts: 4, linkPostRatio: 1, questionRatio: 0 }), []);
  t.strictSame(flagNames({ posts: 5, linkPostRatio: 0.79, questionRatio: 0 }), []);
  t.strictSame(flagNames({ posts: 5, linkPostRatio: 1, questionRatio: 0.11 }), []);
});

t.test('a condition on a null ratio does not hold', async (t) => {
  t.strictSame(flagNames({ posts: 5, linkPostRatio: 1, questionRatio: null }), []);
  t.strictSame(flagNames({ followers: 1000, engagedFollowerRatio: null }), []);
});

t.test('duplicate_posts is raised at 5 posts of which half are duplicates, and not just below', async (t) => {
  t.strictSame(
    raisedFlags(inputs({ posts: 5, duplicatePostRatio: 0.5 })).map((f) => f.thresholds),
    [
      [
        { metric: 'posts', op: '>=', threshold: 5, actual: 5 },
        { metric: 'duplicate_post_ratio', op: '>=', threshold: 0.5, actual: 0.5 },
      ],
    ],
  );
  t.strictSame(flagNames({ posts: 5, duplicatePostRatio: 0.49 }), []);
  t.strictSame(flagNames({ posts: 4, duplicatePostRatio: 1 }), []);
});

t.test('follow_churn is raised at 10 follows of which half are undone quickly, and not just below', async (t) => {
  t.strictSame(
    raisedFlags(inputs({ follows: 10, followChurnRatio: 0.5 })).map((f) => f.thresholds),
    [
      [
        { metric: 'follows', op: '>=', threshold: 10, actual: 10 },
        { metric: 'follow_churn_ratio', op: '>=', threshold: 0.5, actual: 0.5 },
      ],
    ],
  );
  t.strictSame(flagNames({ follows: 10, followChurnRatio: 0.49 }), []);
  t.strictSame(flagNames({ follows: 9, followChurnRatio: 1 }), []);
});

t.test('follow_burst is raised at 100 follows in a day and not at 99', async (t) => {
  t.strictSame(
    raisedFlags(inputs({ peakDailyFollows: 100 })).map((f) => f.thresholds),
    [[{ metric: 'peak_daily_follows', op: '>=', threshold: 100, actual: 100 }]],
  );
  t.strictSame(flagNames({ peakDailyFollows: 99 }), []);
});

t.test('like_for_like is raised at 10 liked accounts of which 80 % like back silently, and not just below', async (t) => {
  t.strictSame(
    raisedFlags(inputs({ likedAccounts: 10, likeForLikeRatio: 0.8 })).map((f) => f.thresholds),
    [
      [
        { metric: 'liked_accounts', op: '>=', threshold: 10, actual: 10 },
        { metric: 'like_for_like_ratio', op: '>=', threshold: 0.8, actual: 0.8 },
      ],
    ],
  );
  t.strictSame(flagNames({ likedAccounts: 10, likeForLikeRatio: 0.79 }), []);
  t.strictSame(flagNames({ likedAccounts: 9, likeForLikeRatio: 1 }), []);
});

t.test('low_engagement is raised at 1,000 followers of whom under 1 % interact, and not at exactly 1 %', async (t) => {
  t.strictSame(
    raisedFlags(inputs({ followers: 1000, engagedFollowerRatio: 0.009 })).map((f) => f.thresholds),
    [
      [
        { metric: 'followers', op: '>=', threshold: 1000, actual: 1000 },
        { metric: 'engaged_follower_ratio', op: '<', threshold: 0.01, actual: 0.009 },
      ],
    ],
  );
  t.strictSame(flagNames({ followers: 1000, engagedFollowerRatio: 0.01 }), []);
  t.strictSame(flagNames({ followers: 999, engagedFollowerRatio: 0 }), []);
});

t.test('several flags are raised together', async (t) => {
  t.strictSame(flagNames({ posts: 10, linkPostRatio: 1, questionRatio: 0, duplicatePostRatio: 0.6, peakDailyFollows: 150 }), ['link_spam', 'duplicate_posts', 'follow_burst']);
});

t.test('the actual values a flag reports are rounded to six decimals', async (t) => {
  t.equal(raisedFlags(inputs({ posts: 6, duplicatePostRatio: 2 / 3 }))[0]?.thresholds[1]?.actual, 0.666667);
});

t.test('a raised flag always has its signal contributing to the score', async (t) => {
  holds(
    t,
    fc.property(inputsArb, (s) => {
      const { signals } = spamScore(s);
      return raisedFlags(s).every((f) => (signals.find((x) => x.signal === f.flag)?.contribution ?? 0) > 0);
    }),
    { seed: 1514, numRuns: 1000 },
  );
});
