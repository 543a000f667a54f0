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
export type PairContribution = Record<(typeof PAIR_COUNTERS)[number], number>;

const total = (c: Counts) => INTERACTION_TYPES.reduce((n, t) => n + c[t], 0);
const flag = (b: boolean) => (b ? 1 : 0);

export function pairContribution(s: PairState): PairContribution {
  const sent = total(s.out);
  const got = total(s.in);
  const talked = s.out.reply + s.out.mention + s.in.reply + s.in.mention > 0;
  return {
    followers: flag(s.inFollows),
    following: flag(s.outFollows),
    mutual: flag(s.inFollows && s.outFollows),
    partnersEngaged: flag(sent > 0),
    partnersEngaging: flag(got > 0),
    partnersMutual: flag(sent > 0 && got > 0),
    exchangeMin: Math.min(sent, got),
    interactionsSent: sent,
    receivedLike: s.in.like,
    receivedReply: s.in.reply,
    receivedMention: s.in.mention,
    receivedRepost: s.in.repost,
    engagedFollowers: flag(s.inFollows && got > 0),
    likedAccounts: flag(s.out.like > 0),
    likeForLikeAccounts: flag(s.out.like > 0 && s.in.like > 0 && !talked),
  };
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
