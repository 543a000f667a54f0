import type { InteractionType } from '../domain/events.js';
import { HOUR_MICROS, MAX_CHURN_HOURS, RESPONSE_WINDOW_HOURS } from './summary.js';

export type Counts = Record<InteractionType, number>;

/** What one ordered pair (A, X) knows: follow state each way, interaction counts each way. */
export interface PairState {
  outFollows: boolean;
  inFollows: boolean;
  out: Counts;
  in: Counts;
}

export const PAIR_COUNTERS = [
  'followers',
  'following',
  'mutual',
  'partnersEngaged',
  'partnersEngaging',
  'partnersMutual',
  'exchangeMin',
  'interactionsSent',
  'receivedLike',
  'receivedReply',
  'receivedMention',
  'receivedRepost',
  'engagedFollowers',
  'likedAccounts',
  'likeForLikeAccounts',
] as const;

/** The part of A's counters that the pair (A, X) contributes; A's counter is the sum over all X. */
export type PairCounter = (typeof PAIR_COUNTERS)[number];
export type PairContribution = Record<PairCounter, number>;

/** One count of a pair, by direction and type, named as the relationships table names it. */
export type PairCount = `${'out' | 'in'}${Capitalize<InteractionType>}`;

/**
 * A per-pair rule, over whole numbers: a sum of the pair's counts, whether one side follows the
 * other (1 or 0), the lesser of two, whether one is positive (1 or 0), all of several (a product
 * of 0s and 1s), not (1 − x). Small enough to be evaluated here and rendered as SQL by db/.
 */
export type PairRule =
  { sum: readonly PairCount[] } | { follows: 'out' | 'in' } | { least: readonly [PairRule, PairRule] } | { positive: PairRule } | { all: readonly PairRule[] } | { not: PairRule };

const sum = (...counts: PairCount[]): PairRule => ({ sum: counts });
const follows = (dir: 'out' | 'in'): PairRule => ({ follows: dir });
const least = (a: PairRule, b: PairRule): PairRule => ({ least: [a, b] });
const positive = (x: PairRule): PairRule => ({ positive: x });
const all = (...xs: PairRule[]): PairRule => ({ all: xs });
const not = (x: PairRule): PairRule => ({ not: x });

const SENT = sum('outLike', 'outReply', 'outMention', 'outRepost');
const GOT = sum('inLike', 'inReply', 'inMention', 'inRepost');
const TALKED = positive(sum('outReply', 'outMention', 'inReply', 'inMention'));

/**
 * What each pair (A, X) adds to A's counters: the one definition of every per-partner rule. The
 * projector's fold renders it as SQL over the relationships rows it upserts (db/derived.ts), a
 * windowed read as SQL over the window's per-partner counts (db/accounts.ts), and erasure
 * evaluates it in TypeScript (pairContribution).
 */
export const PAIR_RULES = {
  followers: follows('in'),
  following: follows('out'),
  mutual: all(follows('in'), follows('out')),
  partnersEngaged: positive(SENT),
  partnersEngaging: positive(GOT),
  partnersMutual: all(positive(SENT), positive(GOT)),
  exchangeMin: least(SENT, GOT),
  interactionsSent: SENT,
  receivedLike: sum('inLike'),
  receivedReply: sum('inReply'),
  receivedMention: sum('inMention'),
  receivedRepost: sum('inRepost'),
  engagedFollowers: all(follows('in'), positive(GOT)),
  likedAccounts: positive(sum('outLike')),
  likeForLikeAccounts: all(positive(sum('outLike')), positive(sum('inLike')), not(TALKED)),
} as const satisfies Record<(typeof PAIR_COUNTERS)[number], PairRule>;

/** A rule's value on one pair's state. */
export function evaluate(rule: PairRule, s: PairState): number {
  if ('sum' in rule) {
    return rule.sum.reduce((n, c) => n + (c.startsWith('out') ? s.out : s.in)[c.slice(c.startsWith('out') ? 3 : 2).toLowerCase() as InteractionType], 0);
  }
  if ('follows' in rule) return (rule.follows === 'out' ? s.outFollows : s.inFollows) ? 1 : 0;
  if ('least' in rule) return Math.min(evaluate(rule.least[0], s), evaluate(rule.least[1], s));
  if ('positive' in rule) return evaluate(rule.positive, s) > 0 ? 1 : 0;
  if ('all' in rule) return rule.all.every((x) => evaluate(x, s) !== 0) ? 1 : 0;
  return evaluate(rule.not, s) === 0 ? 1 : 0;
}

/**
 * What the pair (A, X) adds to A's counters, by PAIR_RULES. Erasure evaluates it here; the
 * projector's fold and the windowed reads run the same rules as SQL (db/rules.ts).
 */
export function pairContribution(s: PairState): PairContribution {
  const c = {} as PairContribution;
  for (const k of PAIR_COUNTERS) c[k] = evaluate(PAIR_RULES[k], s);
  return c;
}

const RESPONSE_WINDOW = BigInt(RESPONSE_WINDOW_HOURS) * HOUR_MICROS;
const MAX_CHURN = BigInt(MAX_CHURN_HOURS) * HOUR_MICROS;

/** A timed event of one direction of a pair; `isNew` marks the ones this change adds (or removes). */
export interface Timed {
  at: bigint;
  isNew: boolean;
}

const ascending = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

/** Index of the first element of `sorted` strictly greater than `t`. */
function firstAfter(sorted: bigint[], t: bigint): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Of the `received` replies/mentions, how many have an answer in (t, t + 72 h]. */
export function answeredCount(received: readonly bigint[], answers: readonly bigint[]): number {
  const sorted = [...answers].sort(ascending);
  let n = 0;
  for (const t of received) {
    const i = firstAfter(sorted, t);
    if (i < sorted.length && sorted[i]! <= t + RESPONSE_WINDOW) n++;
  }
  return n;
}

/**
 * How A's answered count changes when the `isNew` events are added, given every reply/mention
 * between A and X in [lo − 72 h, hi + 72 h], where [lo, hi] spans the new ones: a received message
 * can only change state if it is new or a new answer lies within 72 hours after it.
 */
export function answeredDelta(receivedByA: readonly Timed[], sentByA: readonly Timed[]): number {
  const news = [...receivedByA, ...sentByA].filter((e) => e.isNew).map((e) => e.at);
  if (news.length === 0) return 0;
  const lo = news.reduce((m, t) => (t < m ? t : m)) - RESPONSE_WINDOW;
  const hi = news.reduce((m, t) => (t > m ? t : m));
  const inRange = receivedByA.filter((r) => r.at >= lo && r.at <= hi);
  const after = answeredCount(
    inRange.map((r) => r.at),
    sentByA.map((s) => s.at),
  );
  const before = answeredCount(
    inRange.filter((r) => !r.isNew).map((r) => r.at),
    sentByA.filter((s) => !s.isNew).map((s) => s.at),
  );
  return after - before;
}

/** A follow is a quick unfollow for `churn_hours` = H when its bucket (churnBuckets) is at most H. */
export const isQuickUnfollow = (bucket: number | null, churnHours: number) => bucket !== null && bucket <= churnHours;

/**
 * Hours (rounded up) from a follow to the first later unfollow of the same target, or null when
 * there is none within MAX_CHURN_HOURS. A follow counts as a quick unfollow for `churn_hours` = H
 * exactly when its bucket is ≤ H, since t < u ≤ t + H·1h ⇔ ⌈(u − t)/1h⌉ ≤ H.
 */
export function churnBuckets(follows: readonly bigint[], unfollows: readonly bigint[]): (number | null)[] {
  const sorted = [...unfollows].sort(ascending);
  return follows.map((t) => {
    const i = firstAfter(sorted, t);
    if (i >= sorted.length) return null;
    return delayBucket(sorted[i]! - t);
  });
}

/** The bucket of an unfollow `delay` µs after its follow: hours rounded up, null past MAX_CHURN_HOURS. */
export function delayBucket(delay: bigint): number | null {
  if (delay > MAX_CHURN) return null;
  return Number((delay + HOUR_MICROS - 1n) / HOUR_MICROS);
}

/**
 * How A's histogram of unfollow delays changes when the `isNew` events are added, given every
 * follow/unfollow of A→X in [lo − MAX_CHURN, hi + MAX_CHURN]. Returns bucket → change.
 */
export function churnDelta(follows: readonly Timed[], unfollows: readonly Timed[]): Map<number, number> {
  const delta = new Map<number, number>();
  const news = [...follows, ...unfollows].filter((e) => e.isNew).map((e) => e.at);
  if (news.length === 0) return delta;
  const lo = news.reduce((m, t) => (t < m ? t : m)) - MAX_CHURN;
  const hi = news.reduce((m, t) => (t > m ? t : m));
  const affected = follows.filter((f) => f.at >= lo && f.at <= hi);
  const bump = (bucket: number | null, by: number) => {
    if (bucket !== null) delta.set(bucket, (delta.get(bucket) ?? 0) + by);
  };
  churnBuckets(
    affected.map((f) => f.at),
    unfollows.map((u) => u.at),
  ).forEach((b) => bump(b, 1));
  churnBuckets(
    affected.filter((f) => !f.isNew).map((f) => f.at),
    unfollows.filter((u) => !u.isNew).map((u) => u.at),
  ).forEach((b) => bump(b, -1));
  for (const [k, v] of delta) if (v === 0) delta.delete(k);
  return delta;
}

/** The range of context a change needs around its new events. */
export const CONTEXT = { responseWindow: RESPONSE_WINDOW, maxChurn: MAX_CHURN };
