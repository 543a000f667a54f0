import { z } from 'zod';
import { raisedFlags, spamScore, SIGNAL_DOCS, WEIGHTS, FLAGS, METRIC_NAMES, type SignalName } from './spam.js';
import { emptySummary, RESPONSE_WINDOW_HOURS, type Summary } from './summary.js';

/**
 * Every metric of SPEC §3: its definition (documentation, OpenAPI descriptions) and its
 * computation from a Summary. The endpoints, the ranking and the docs all read from here.
 */

export interface Ratio {
  value: number | null;
  numerator: number;
  denominator: number;
}

/**
 * The one rounding rule of every answer: a number that is not a count is rounded to 6 decimal
 * places (ratio values, spam_score, signals, flag values), so clients compare what they see.
 */
export const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** Signals and flags weigh the exact quotients; only what is answered is rounded. */
const quotient = (numerator: number, denominator: number) => (denominator === 0 ? null : numerator / denominator);

export function ratio(numerator: number, denominator: number): Ratio {
  return { value: denominator === 0 ? null : round6(numerator / denominator), numerator, denominator };
}

/** Counts are JavaScript-safe integers (int64 on the wire); the example is what an account really shows. */
export const countSchema = (description: string, example = 120) =>
  z
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .describe(description)
    .meta({ examples: [example] });

const ratioFields = (max: number) => ({
  value: z.number().min(0).max(max).nullable().describe('numerator / denominator rounded to 6 decimal places; null when the denominator is 0.'),
  numerator: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  denominator: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

/** A share: its numerator never exceeds its denominator, so its value lies in [0, 1]. */
export const ratioSchema = z.object(ratioFields(1)).meta({
  id: 'Ratio',
  description: 'A share in [0, 1], with what it is made of; `value` is null when the denominator is 0.',
  examples: [
    { value: 0.375, numerator: 150, denominator: 400 },
    { value: null, numerator: 0, denominator: 0 },
  ],
});

/** A quotient of two counts that may exceed 1 (following / followers, interactions per follower). */
export const quotientSchema = z.object(ratioFields(Number.MAX_SAFE_INTEGER)).meta({
  id: 'Quotient',
  description: 'A quotient of two counts, at least 0 and possibly above 1; `value` is null when the denominator is 0.',
  examples: [
    { value: 3, numerator: 1200, denominator: 400 },
    { value: null, numerator: 35, denominator: 0 },
  ],
});

const ratioOf = (description: string) => ratioSchema.describe(description);
const quotientOf = (description: string) => quotientSchema.describe(description);
const count = countSchema;

export const DEFINITIONS = {
  followers: 'Accounts X with an active follow X→A (current state, whatever the window).',
  following: 'Accounts Y with an active follow A→Y (current state).',
  mutual: 'Accounts that A follows and that follow A (current state).',
  follow_back_rate: 'mutual / following: of the accounts A follows, the share that follow A back.',
  followers_followed_back: 'mutual / followers: of the accounts following A, the share A follows back.',
  graph_reciprocity: '2·mutual / (followers + following); equals networkx reciprocity(G, A) on the follow graph.',
  following_to_followers: 'following / followers.',
  partners_engaged: 'Distinct accounts X ≠ A that A directed an interaction (like, reply, mention, repost) at.',
  partners_engaging: 'Distinct accounts X ≠ A that directed an interaction at A.',
  partners_mutual: 'Accounts that are both engaged and engaging.',
  engagement_reciprocity: 'partners_mutual / partners_engaged: of those A interacts with, the share who interact back.',
  exchange_balance: 'Σ_X min(out(A,X), in(X,A)) / Σ_X out(A,X), where out and in count interactions between the pair: how much of what A gives comes back.',
  response_rate: `Of the replies and mentions A received from others, the share A answered with a reply or mention to the same account within ${RESPONSE_WINDOW_HOURS} hours after (the answer may lie past \`until\`).`,
  interactions_received: 'Interactions from accounts X ≠ A directed at A, by type, and their total.',
  engaged_followers: 'Current followers that directed at least one interaction at A.',
  engaged_follower_ratio: 'engaged_followers / followers.',
  interactions_per_follower: 'interactions_received.total / followers.',
  posts: '`post` events by A.',
  link_post_ratio: 'Share of A’s posts with has_link.',
  question_ratio: 'Share of A’s posts with is_question.',
  duplicate_post_ratio:
    'Share of A’s posts whose fingerprint equals that of an earlier post of A’s: k equal posts make k − 1 duplicates; a post whose normalised text is empty (or that has no text) has no fingerprint.',
  follows: '`follow` events by A (to accounts other than A).',
  quick_unfollows: 'Follows by A followed by an unfollow of the same target within churn_hours after (the unfollow may lie past `until`).',
  follow_churn_ratio: 'quick_unfollows / follows.',
  peak_daily_follows: 'Most `follow` events by A in one UTC calendar day.',
  like_for_like_ratio: 'Of the distinct accounts X that A liked, the share that also liked A and had no reply or mention with A in either direction.',
  spam_score: `In [0, 1]: 1 − Π(1 − weight × strength) over the signals ${Object.keys(WEIGHTS).join(', ')}; monotone in each signal; each signal's strength, weight and contribution are returned.`,
  flags: 'Named findings, each with the thresholds that raised it and the actual values.',
} as const;

export type MetricName = keyof typeof DEFINITIONS;

/** A plausible account (a link-spamming follow-churner), for the OpenAPI document's examples. (docs/metrics.md works one simpler account through by hand.) */
export const EXAMPLE_SUMMARY: Summary = {
  ...emptySummary(),
  followers: 400,
  following: 1_200,
  mutual: 150,
  partnersEngaged: 24,
  partnersEngaging: 31,
  partnersMutual: 12,
  exchangeMin: 40,
  interactionsSent: 95,
  received: { like: 180, reply: 22, mention: 9, repost: 14 },
  engagedFollowers: 37,
  conversationsReceived: 31,
  conversationsAnswered: 11,
  posts: 40,
  linkPosts: 36,
  questionPosts: 2,
  duplicatePosts: 12,
  follows: 900,
  quickUnfollows: 610,
  peakDailyFollows: 140,
  likedAccounts: 60,
  likeForLikeAccounts: 9,
};

export const reciprocitySchema = z
  .object({
    followers: count(DEFINITIONS.followers, 400),
    following: count(DEFINITIONS.following, 1200),
    mutual: count(DEFINITIONS.mutual, 150),
    follow_back_rate: ratioOf(DEFINITIONS.follow_back_rate),
    followers_followed_back: ratioOf(DEFINITIONS.followers_followed_back),
    graph_reciprocity: ratioOf(DEFINITIONS.graph_reciprocity),
    following_to_followers: quotientOf(DEFINITIONS.following_to_followers),
    partners_engaged: count(DEFINITIONS.partners_engaged, 24),
    partners_engaging: count(DEFINITIONS.partners_engaging, 31),
    partners_mutual: count(DEFINITIONS.partners_mutual, 12),
    engagement_reciprocity: ratioOf(DEFINITIONS.engagement_reciprocity),
    exchange_balance: ratioOf(DEFINITIONS.exchange_balance),
    response_rate: ratioOf(DEFINITIONS.response_rate),
  })
  .meta({ id: 'Reciprocity', description: 'Who follows and interacts back.' });

export const interactionCountsSchema = z
  .object({
    like: count('Likes.', 180),
    reply: count('Replies.', 22),
    mention: count('Mentions.', 9),
    repost: count('Reposts.', 14),
    total: count('All four.', 225),
  })
  .meta({
    id: 'InteractionCounts',
    description: 'Interactions by type, and their total.',
    examples: [{ like: 180, reply: 22, mention: 9, repost: 14, total: 225 }],
  });

export const engagementSchema = z
  .object({
    interactions_received: interactionCountsSchema.describe(DEFINITIONS.interactions_received),
    engaged_followers: count(DEFINITIONS.engaged_followers, 37),
    engaged_follower_ratio: ratioOf(DEFINITIONS.engaged_follower_ratio),
    interactions_per_follower: quotientOf(DEFINITIONS.interactions_per_follower),
  })
  .meta({ id: 'Engagement', description: 'How much the account is interacted with, and by whom.' });

const signalNames = Object.keys(WEIGHTS) as [SignalName, ...SignalName[]];
const share = (description: string) => z.number().min(0).max(1).describe(description);

export const signalSchema = z
  .object({
    signal: z.enum(signalNames).describe(
      Object.entries(SIGNAL_DOCS)
        .map(([k, v]) => `${k}: ${v}`)
        .join('; '),
    ),
    strength: share('How strongly the signal is present, in [0, 1] (6 decimal places).'),
    weight: share('The weight of the signal in spam_score.'),
    contribution: share('weight × strength (6 decimal places).'),
  })
  .meta({ id: 'Signal', description: 'One signal behind spam_score.' });

export const flagThresholdSchema = z
  .object({
    metric: z
      .enum(Object.values(METRIC_NAMES) as [string, ...string[]])
      .describe('The metric the condition is on, as the API names it (liked_accounts: distinct accounts A liked).'),
    op: z.enum(['>=', '<=', '<']),
    threshold: z.number().min(0).max(Number.MAX_SAFE_INTEGER),
    actual: z.number().min(0).max(Number.MAX_SAFE_INTEGER).describe('The account’s value (6 decimal places).'),
  })
  .meta({ id: 'FlagThreshold', description: 'One condition of a flag, which held.', examples: [{ metric: 'link_post_ratio', op: '>=', threshold: 0.8, actual: 0.9 }] });

export const flagSchema = z
  .object({
    flag: z.enum(signalNames).describe(
      Object.entries(FLAGS)
        .map(([k, f]) => `${k}: ${f.description} (${f.when.map((c) => `${METRIC_NAMES[c.metric]} ${c.op} ${c.value}`).join(' and ')})`)
        .join('; '),
    ),
    description: z.string().max(500),
    thresholds: z.array(flagThresholdSchema).max(10).describe('Every condition of the flag, each of which held.'),
  })
  .meta({ id: 'Flag', description: 'A named finding, with the thresholds that raised it.' });

export const spamSchema = z
  .object({
    posts: count(DEFINITIONS.posts, 40),
    link_post_ratio: ratioOf(DEFINITIONS.link_post_ratio),
    question_ratio: ratioOf(DEFINITIONS.question_ratio),
    duplicate_post_ratio: ratioOf(DEFINITIONS.duplicate_post_ratio),
    follows: count(DEFINITIONS.follows, 900),
    quick_unfollows: count(DEFINITIONS.quick_unfollows, 610),
    follow_churn_ratio: ratioOf(DEFINITIONS.follow_churn_ratio),
    peak_daily_follows: count(DEFINITIONS.peak_daily_follows, 140),
    like_for_like_ratio: ratioOf(DEFINITIONS.like_for_like_ratio),
    spam_score: z
      .number()
      .min(0)
      .max(1)
      .describe(DEFINITIONS.spam_score)
      .meta({ examples: [0.734512] }),
    signals: z.array(signalSchema).max(signalNames.length).describe('Each signal behind spam_score.'),
    flags: z.array(flagSchema).max(signalNames.length).describe(DEFINITIONS.flags),
  })
  .meta({ id: 'Spam', description: 'Spam signals, the score they make and the findings they raise.' });

export type ReciprocitySection = z.infer<typeof reciprocitySchema>;
export type EngagementSection = z.infer<typeof engagementSchema>;
export type SpamSection = z.infer<typeof spamSchema>;

/**
 * The counters of a Summary, named as account_stats names them (db/ renders each name as its
 * column): every count and ratio below is written in terms of these, once.
 */
const COUNTERS = {
  followers: (s) => s.followers,
  following: (s) => s.following,
  mutual: (s) => s.mutual,
  partnersEngaged: (s) => s.partnersEngaged,
  partnersEngaging: (s) => s.partnersEngaging,
  partnersMutual: (s) => s.partnersMutual,
  exchangeMin: (s) => s.exchangeMin,
  interactionsSent: (s) => s.interactionsSent,
  receivedLike: (s) => s.received.like,
  receivedReply: (s) => s.received.reply,
  receivedMention: (s) => s.received.mention,
  receivedRepost: (s) => s.received.repost,
  engagedFollowers: (s) => s.engagedFollowers,
  conversationsReceived: (s) => s.conversationsReceived,
  conversationsAnswered: (s) => s.conversationsAnswered,
  posts: (s) => s.posts,
  linkPosts: (s) => s.linkPosts,
  questionPosts: (s) => s.questionPosts,
  duplicatePosts: (s) => s.duplicatePosts,
  follows: (s) => s.follows,
  quickUnfollows: (s) => s.quickUnfollows,
  peakDailyFollows: (s) => s.peakDailyFollows,
  likedAccounts: (s) => s.likedAccounts,
  likeForLikeAccounts: (s) => s.likeForLikeAccounts,
} as const satisfies Record<string, (s: Summary) => number>;

export type Counter = keyof typeof COUNTERS;

/** A sum of counters, each with its (whole) coefficient. */
export type Terms = Partial<Record<Counter, number>>;

/** A metric as a formula over counters: a count (a sum) or a ratio of two sums. */
export type Formula = { count: Terms } | { numerator: Terms; denominator: Terms };

const sumOfCounters = (terms: Terms) => ({ count: terms });
const per = (numerator: Terms, denominator: Terms) => ({ numerator, denominator });
const RECEIVED: Terms = { receivedLike: 1, receivedReply: 1, receivedMention: 1, receivedRepost: 1 };

/**
 * Every count and ratio of SPEC §3 that a Summary's counters give directly, in the order the
 * ranking lists them: the score sections compute them from here, and the ranking's SQL is
 * rendered from the same entries (db/accounts.ts), so the two cannot disagree.
 */
export const FORMULAS = {
  followers: sumOfCounters({ followers: 1 }),
  following: sumOfCounters({ following: 1 }),
  mutual: sumOfCounters({ mutual: 1 }),
  follow_back_rate: per({ mutual: 1 }, { following: 1 }),
  followers_followed_back: per({ mutual: 1 }, { followers: 1 }),
  graph_reciprocity: per({ mutual: 2 }, { followers: 1, following: 1 }),
  following_to_followers: per({ following: 1 }, { followers: 1 }),
  partners_engaged: sumOfCounters({ partnersEngaged: 1 }),
  partners_engaging: sumOfCounters({ partnersEngaging: 1 }),
  partners_mutual: sumOfCounters({ partnersMutual: 1 }),
  engagement_reciprocity: per({ partnersMutual: 1 }, { partnersEngaged: 1 }),
  exchange_balance: per({ exchangeMin: 1 }, { interactionsSent: 1 }),
  response_rate: per({ conversationsAnswered: 1 }, { conversationsReceived: 1 }),
  interactions_received: sumOfCounters(RECEIVED),
  engaged_followers: sumOfCounters({ engagedFollowers: 1 }),
  engaged_follower_ratio: per({ engagedFollowers: 1 }, { followers: 1 }),
  interactions_per_follower: per(RECEIVED, { followers: 1 }),
  posts: sumOfCounters({ posts: 1 }),
  link_post_ratio: per({ linkPosts: 1 }, { posts: 1 }),
  question_ratio: per({ questionPosts: 1 }, { posts: 1 }),
  duplicate_post_ratio: per({ duplicatePosts: 1 }, { posts: 1 }),
  follows: sumOfCounters({ follows: 1 }),
  quick_unfollows: sumOfCounters({ quickUnfollows: 1 }),
  follow_churn_ratio: per({ quickUnfollows: 1 }, { follows: 1 }),
  peak_daily_follows: sumOfCounters({ peakDailyFollows: 1 }),
  like_for_like_ratio: per({ likeForLikeAccounts: 1 }, { likedAccounts: 1 }),
} as const satisfies Partial<Record<MetricName, Formula>>;

type FormulaName = keyof typeof FORMULAS;
type RatioName = { [K in FormulaName]: (typeof FORMULAS)[K] extends { numerator: Terms } ? K : never }[FormulaName];

export const sumOf = (terms: Terms, s: Summary) => Object.entries(terms).reduce((n, [c, k]) => n + k * COUNTERS[c as Counter](s), 0);

/** A ratio of the table, as answers state it (rounded, with its parts). */
const ratioFrom = (name: RatioName, s: Summary) => ratio(sumOf(FORMULAS[name].numerator, s), sumOf(FORMULAS[name].denominator, s));
/** A ratio of the table, exact, as signals and flags weigh it. */
const quotientFrom = (name: RatioName, s: Summary) => quotient(sumOf(FORMULAS[name].numerator, s), sumOf(FORMULAS[name].denominator, s));

/** A metric of the table, exact: null for a ratio whose denominator is 0. */
export function formulaValue(f: Formula, s: Summary): number | null {
  return 'count' in f ? sumOf(f.count, s) : quotient(sumOf(f.numerator, s), sumOf(f.denominator, s));
}

export function reciprocity(s: Summary): ReciprocitySection {
  return {
    followers: s.followers,
    following: s.following,
    mutual: s.mutual,
    follow_back_rate: ratioFrom('follow_back_rate', s),
    followers_followed_back: ratioFrom('followers_followed_back', s),
    graph_reciprocity: ratioFrom('graph_reciprocity', s),
    following_to_followers: ratioFrom('following_to_followers', s),
    partners_engaged: s.partnersEngaged,
    partners_engaging: s.partnersEngaging,
    partners_mutual: s.partnersMutual,
    engagement_reciprocity: ratioFrom('engagement_reciprocity', s),
    exchange_balance: ratioFrom('exchange_balance', s),
    response_rate: ratioFrom('response_rate', s),
  };
}

export function engagement(s: Summary): EngagementSection {
  return {
    interactions_received: { ...s.received, total: sumOf(FORMULAS.interactions_received.count, s) },
    engaged_followers: s.engagedFollowers,
    engaged_follower_ratio: ratioFrom('engaged_follower_ratio', s),
    interactions_per_follower: ratioFrom('interactions_per_follower', s),
  };
}

export function spam(s: Summary): SpamSection {
  const inputs = {
    posts: s.posts,
    linkPostRatio: quotientFrom('link_post_ratio', s),
    questionRatio: quotientFrom('question_ratio', s),
    duplicatePostRatio: quotientFrom('duplicate_post_ratio', s),
    follows: s.follows,
    followChurnRatio: quotientFrom('follow_churn_ratio', s),
    peakDailyFollows: s.peakDailyFollows,
    likedAccounts: s.likedAccounts,
    likeForLikeRatio: quotientFrom('like_for_like_ratio', s),
    followers: s.followers,
    engagedFollowerRatio: quotientFrom('engaged_follower_ratio', s),
  };
  const { score, signals } = spamScore(inputs);
  return {
    posts: s.posts,
    link_post_ratio: ratioFrom('link_post_ratio', s),
    question_ratio: ratioFrom('question_ratio', s),
    duplicate_post_ratio: ratioFrom('duplicate_post_ratio', s),
    follows: s.follows,
    quick_unfollows: s.quickUnfollows,
    follow_churn_ratio: ratioFrom('follow_churn_ratio', s),
    peak_daily_follows: s.peakDailyFollows,
    like_for_like_ratio: ratioFrom('like_for_like_ratio', s),
    spam_score: score,
    signals,
    flags: raisedFlags(inputs),
  };
}

/**
 * What the ranking sorts by: every metric of the table, all time with the default churn_hours,
 * and the stored spam_score (a test holds each value equal to the scores endpoint's).
 */
export const RANKING_METRICS = ['spam_score', ...Object.keys(FORMULAS)] as ['spam_score', ...FormulaName[]];
export type RankingMetric = (typeof RANKING_METRICS)[number];

/** A ratio has no value (null) when its denominator is 0; a count always has one. */
export const isRatioMetric = (m: RankingMetric) => m !== 'spam_score' && 'numerator' in FORMULAS[m];

/**
 * The sections' examples are what the functions above compute for EXAMPLE_SUMMARY, so they cannot
 * drift from the code; added once the functions exist (the schemas type them).
 */
function withExamples(schema: z.ZodType, examples: unknown[]) {
  const meta = z.globalRegistry.get(schema);
  z.globalRegistry.remove(schema);
  z.globalRegistry.add(schema, { ...meta, examples });
}
const exampleSpam = spam(EXAMPLE_SUMMARY);
withExamples(reciprocitySchema, [reciprocity(EXAMPLE_SUMMARY)]);
withExamples(engagementSchema, [engagement(EXAMPLE_SUMMARY)]);
withExamples(spamSchema, [exampleSpam]);
withExamples(signalSchema, exampleSpam.signals.slice(0, 2));
withExamples(flagSchema, exampleSpam.flags.slice(0, 1));
