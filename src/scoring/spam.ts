/**
 * The spam score and the flags: every threshold and weight lives here, named, and the docs and
 * the OpenAPI descriptions are generated from these constants.
 */

/** How much evidence a signal needs before it counts fully: its strength grows linearly up to this count. */
export const EVIDENCE = {
  /** posts behind link_post_ratio and duplicate_post_ratio */
  posts: 5,
  /** follows behind follow_churn_ratio */
  follows: 10,
  /** liked accounts behind like_for_like_ratio */
  likedAccounts: 10,
  /** followers behind low engagement */
  followers: 1_000,
} as const;

/** peak_daily_follows at or below this is ordinary; the follow-burst signal grows linearly to 1 at `FOLLOW_BURST_FULL`. */
export const FOLLOW_BURST_START = 50;
export const FOLLOW_BURST_FULL = 200;

/**
 * Each signal's weight: the score it alone produces at full strength. The signals combine as a
 * noisy-OR, spam_score = 1 − Π (1 − weight · strength), so one strong signal is enough to stand
 * out, several together push towards 1, and the score never decreases when a signal grows.
 */
export const WEIGHTS = {
  link_spam: 0.8,
  duplicate_posts: 0.7,
  follow_churn: 0.8,
  follow_burst: 0.6,
  like_for_like: 0.7,
  low_engagement: 0.5,
} as const;

export type SignalName = keyof typeof WEIGHTS;

export interface SignalInputs {
  posts: number;
  linkPostRatio: number | null;
  questionRatio: number | null;
  duplicatePostRatio: number | null;
  follows: number;
  followChurnRatio: number | null;
  peakDailyFollows: number;
  likedAccounts: number;
  likeForLikeRatio: number | null;
  followers: number;
  engagedFollowerRatio: number | null;
}

export const SIGNAL_DOCS: Record<SignalName, string> = {
  link_spam: `link_post_ratio × (1 − question_ratio / 2) × min(1, posts / ${EVIDENCE.posts}): posts that are links and ask nothing`,
  duplicate_posts: `duplicate_post_ratio × min(1, posts / ${EVIDENCE.posts}): the same text posted again and again`,
  follow_churn: `follow_churn_ratio × min(1, follows / ${EVIDENCE.follows}): follows undone within churn_hours`,
  follow_burst: `clamp((peak_daily_follows − ${FOLLOW_BURST_START}) / ${FOLLOW_BURST_FULL - FOLLOW_BURST_START}, 0, 1): many follows in one UTC day`,
  like_for_like: `like_for_like_ratio × min(1, liked accounts / ${EVIDENCE.likedAccounts}): likes traded with no conversation`,
  low_engagement: `(1 − engaged_follower_ratio) × min(1, followers / ${EVIDENCE.followers}): a large following that never interacts`,
};

const evidence = (n: number, full: number) => Math.min(1, n / full);
const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** Each signal's strength in [0, 1]; a signal whose ratio is null (no data) is 0. */
export function signalStrengths(s: SignalInputs): Record<SignalName, number> {
  return {
    link_spam: (s.linkPostRatio ?? 0) * (1 - (s.questionRatio ?? 0) / 2) * evidence(s.posts, EVIDENCE.posts),
    duplicate_posts: (s.duplicatePostRatio ?? 0) * evidence(s.posts, EVIDENCE.posts),
    follow_churn: (s.followChurnRatio ?? 0) * evidence(s.follows, EVIDENCE.follows),
    follow_burst: clamp01((s.peakDailyFollows - FOLLOW_BURST_START) / (FOLLOW_BURST_FULL - FOLLOW_BURST_START)),
    like_for_like: (s.likeForLikeRatio ?? 0) * evidence(s.likedAccounts, EVIDENCE.likedAccounts),
    low_engagement: s.engagedFollowerRatio === null ? 0 : (1 - s.engagedFollowerRatio) * evidence(s.followers, EVIDENCE.followers),
  };
}

export interface SignalContribution {
  signal: SignalName;
  strength: number;
  weight: number;
  /** weight × strength: the score this signal alone would give. */
  contribution: number;
}

/** The rounding rule of every answer (see round6 in metrics.ts): 6 decimal places. */
const round = (x: number) => Math.round(x * 1e6) / 1e6;

export function spamScore(s: SignalInputs): { score: number; signals: SignalContribution[] } {
  const strengths = signalStrengths(s);
  const signals = (Object.keys(WEIGHTS) as SignalName[]).map((signal) => ({
    signal,
    strength: round(strengths[signal]),
    weight: WEIGHTS[signal],
    contribution: round(WEIGHTS[signal] * strengths[signal]),
  }));
  const score = 1 - signals.reduce((p, x) => p * (1 - WEIGHTS[x.signal] * strengths[x.signal]), 1);
  return { score: round(score), signals };
}

/** A finding is raised when every one of its conditions holds. */
interface Condition {
  metric: keyof SignalInputs;
  op: '>=' | '<=' | '<';
  value: number;
}

export const FLAGS: Record<SignalName, { description: string; when: Condition[] }> = {
  link_spam: {
    description: 'Most posts are links and almost none ask a question.',
    when: [
      { metric: 'posts', op: '>=', value: 5 },
      { metric: 'linkPostRatio', op: '>=', value: 0.8 },
      { metric: 'questionRatio', op: '<=', value: 0.1 },
    ],
  },
  duplicate_posts: {
    description: 'At least half of the posts repeat an earlier post word for word.',
    when: [
      { metric: 'posts', op: '>=', value: 5 },
      { metric: 'duplicatePostRatio', op: '>=', value: 0.5 },
    ],
  },
  follow_churn: {
    description: 'At least half of the follows are undone within churn_hours.',
    when: [
      { metric: 'follows', op: '>=', value: 10 },
      { metric: 'followChurnRatio', op: '>=', value: 0.5 },
    ],
  },
  follow_burst: {
    description: 'At least 100 follows in a single UTC day.',
    when: [{ metric: 'peakDailyFollows', op: '>=', value: 100 }],
  },
  like_for_like: {
    description: 'Most liked accounts like back without any conversation.',
    when: [
      { metric: 'likedAccounts', op: '>=', value: 10 },
      { metric: 'likeForLikeRatio', op: '>=', value: 0.8 },
    ],
  },
  low_engagement: {
    description: 'A following of 1,000 or more of whom fewer than 1 % ever interact.',
    when: [
      { metric: 'followers', op: '>=', value: 1_000 },
      { metric: 'engagedFollowerRatio', op: '<', value: 0.01 },
    ],
  },
};

/** The public name of each input, as the API spells the metric. */
export const METRIC_NAMES: Record<keyof SignalInputs, string> = {
  posts: 'posts',
  linkPostRatio: 'link_post_ratio',
  questionRatio: 'question_ratio',
  duplicatePostRatio: 'duplicate_post_ratio',
  follows: 'follows',
  followChurnRatio: 'follow_churn_ratio',
  peakDailyFollows: 'peak_daily_follows',
  likedAccounts: 'liked_accounts',
  likeForLikeRatio: 'like_for_like_ratio',
  followers: 'followers',
  engagedFollowerRatio: 'engaged_follower_ratio',
};

export interface Flag {
  flag: SignalName;
  description: string;
  thresholds: { metric: string; op: Condition['op']; threshold: number; actual: number }[];
}

const holds = (actual: number, c: Condition) => (c.op === '>=' ? actual >= c.value : c.op === '<=' ? actual <= c.value : actual < c.value);

export function raisedFlags(s: SignalInputs): Flag[] {
  const flags: Flag[] = [];
  for (const [name, def] of Object.entries(FLAGS) as [SignalName, (typeof FLAGS)[SignalName]][]) {
    const actuals = def.when.map((c) => s[c.metric]);
    // A condition on a ratio with no data (null) does not hold.
    if (actuals.every((a, i) => a !== null && holds(a, def.when[i]!))) {
      flags.push({
        flag: name,
        description: def.description,
        thresholds: def.when.map((c, i) => ({
          metric: METRIC_NAMES[c.metric],
          op: c.op,
          threshold: c.value,
          actual: round(actuals[i]!),
        })),
      });
    }
  }
  return flags;
}
