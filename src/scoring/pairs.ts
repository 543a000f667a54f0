import { INTERACTION_TYPES, type InteractionType } from '../domain/events.js';
import { HOUR_MICROS, MAX_CHURN_HOURS, RESPONSE_WINDOW_HOURS } from './summary.js';

export type Counts = Record<InteractionType, number>;

/** What one ordered pair (A, X) knows: follow state each way, interaction counts each way. */
export interface PairState {
  outFollows: boolean;
  inFollows: boolean;
  out: Counts;
  in: Counts;
}

/**
 * A rule over one ordered pair's state, written once and read two ways: evaluated on a PairState
 * (erasure, tests) and as a SQL expression over a relationships row (the projector's fold), so the
 * two cannot disagree. `column` maps a relationships column name (out_follows, in_like, …) to SQL.
 */
export interface PairRule<T> {
  of(s: PairState): T;
  sql(column: (name: string) => string): string;
}

const follows = (dir: 'out' | 'in'): PairRule<boolean> => ({
  of: (s) => (dir === 'out' ? s.outFollows : s.inFollows),
  sql: (c) => c(`${dir}_follows`),
});
const count = (dir: 'out' | 'in', type: InteractionType): PairRule<number> => ({ of: (s) => s[dir][type], sql: (c) => c(`${dir}_${type}`) });
const sum = (...xs: PairRule<number>[]): PairRule<number> => ({
  of: (s) => xs.reduce((n, x) => n + x.of(s), 0),
  sql: (c) => `(${xs.map((x) => x.sql(c)).join(' + ')})`,
});
const positive = (x: PairRule<number>): PairRule<boolean> => ({ of: (s) => x.of(s) > 0, sql: (c) => `(${x.sql(c)} > 0)` });
const and = (...xs: PairRule<boolean>[]): PairRule<boolean> => ({
  of: (s) => xs.every((x) => x.of(s)),
  sql: (c) => `(${xs.map((x) => x.sql(c)).join(' AND ')})`,
});
const not = (x: PairRule<boolean>): PairRule<boolean> => ({ of: (s) => !x.of(s), sql: (c) => `(NOT ${x.sql(c)})` });
const flag = (x: PairRule<boolean>): PairRule<number> => ({ of: (s) => (x.of(s) ? 1 : 0), sql: (c) => `(${x.sql(c)})::int` });
const least = (a: PairRule<number>, b: PairRule<number>): PairRule<number> => ({
  of: (s) => Math.min(a.of(s), b.of(s)),
  sql: (c) => `LEAST(${a.sql(c)}, ${b.sql(c)})`,
});

const sent = sum(...INTERACTION_TYPES.map((t) => count('out', t)));
const got = sum(...INTERACTION_TYPES.map((t) => count('in', t)));
const talked = positive(sum(count('out', 'reply'), count('out', 'mention'), count('in', 'reply'), count('in', 'mention')));

/** The part of A's counters that the pair (A, X) contributes; A's counter is the sum over all X. */
export const PAIR_RULES = {
  followers: flag(follows('in')),
  following: flag(follows('out')),
  mutual: flag(and(follows('in'), follows('out'))),
  partnersEngaged: flag(positive(sent)),
  partnersEngaging: flag(positive(got)),
  partnersMutual: flag(and(positive(sent), positive(got))),
  exchangeMin: least(sent, got),
  interactionsSent: sent,
  receivedLike: count('in', 'like'),
  receivedReply: count('in', 'reply'),
  receivedMention: count('in', 'mention'),
  receivedRepost: count('in', 'repost'),
  engagedFollowers: flag(and(follows('in'), positive(got))),
  likedAccounts: flag(positive(count('out', 'like'))),
  likeForLikeAccounts: flag(and(positive(count('out', 'like')), positive(count('in', 'like')), not(talked))),
} satisfies Record<string, PairRule<number>>;

export type PairCounter = keyof typeof PAIR_RULES;
export const PAIR_COUNTERS = Object.keys(PAIR_RULES) as PairCounter[];
export type PairContribution = Record<PairCounter, number>;

export function pairContribution(s: PairState): PairContribution {
  const c = {} as PairContribution;
  for (const k of PAIR_COUNTERS) c[k] = PAIR_RULES[k].of(s);
  return c;
}

export function contributionDelta(before: PairState, after: PairState): PairContribution {
  const a = pairContribution(after);
  const b = pairContribution(before);
  for (const k of PAIR_COUNTERS) a[k] -= b[k];
  return a;
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
    const delay = sorted[i]! - t;
    if (delay > MAX_CHURN) return null;
    return Number((delay + HOUR_MICROS - 1n) / HOUR_MICROS);
  });
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
