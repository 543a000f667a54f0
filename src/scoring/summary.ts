/**
 * The counts every metric of SPEC §3 is computed from. Ingest keeps an all-time Summary per
 * account up to date; a windowed read builds one from the events in the window. Either way the
 * ratios, the spam score and the flags come from the same code (metrics.ts).
 */
export interface Summary {
  // Follow graph: always the current state, whatever the window.
  followers: number;
  following: number;
  mutual: number;
  // Distinct partners X ≠ A.
  partnersEngaged: number;
  partnersEngaging: number;
  partnersMutual: number;
  /** Σ_X min(out(A,X), in(X,A)). */
  exchangeMin: number;
  /** Σ_X out(A,X): interactions A directed at others. */
  interactionsSent: number;
  received: { like: number; reply: number; mention: number; repost: number };
  engagedFollowers: number;
  /** Replies and mentions A received from others, and how many A answered within 72 hours. */
  conversationsReceived: number;
  conversationsAnswered: number;
  posts: number;
  linkPosts: number;
  questionPosts: number;
  duplicatePosts: number;
  follows: number;
  quickUnfollows: number;
  peakDailyFollows: number;
  likedAccounts: number;
  likeForLikeAccounts: number;
}

/** The counters that are the current follow graph, whatever window a read covers. */
export const FOLLOW_GRAPH = ['followers', 'following', 'mutual'] as const;

export const emptySummary = (): Summary => ({
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

/** A reply or mention is answered by a reply or mention back within this many hours after it. */
export const RESPONSE_WINDOW_HOURS = 72;
/** `churn_hours` when the query does not say. */
export const DEFAULT_CHURN_HOURS = 72;
/** The largest `churn_hours` a query may ask for (a year); ingest keeps unfollow delays up to it. */
export const MAX_CHURN_HOURS = 8_760;

export const HOUR_MICROS = 3_600_000_000n;
