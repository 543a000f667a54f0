import type { NormalizedEvent } from '../domain/events.js';
import { answeredDelta, churnDelta, CONTEXT, isQuickUnfollow, PAIR_COUNTERS, type Timed } from '../scoring/pairs.js';
import { DEFAULT_CHURN_HOURS } from '../scoring/summary.js';

/**
 * The pure half of a fold: what a batch of new events changes in the derived counters, given the
 * stored events the change depends on. No I/O here: src/projection/fold.ts reads the context and
 * writes the changes through src/db/derived.ts.
 */

export const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const ascending = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
/** Accounts hold no control characters, so a newline cannot occur inside either part. */
export const pairKey = (a: string, b: string) => `${a}\n${b}`;

export type PairEvent = NormalizedEvent & { target: string };
export const isPairEvent = (e: NormalizedEvent): e is PairEvent => e.target !== null && e.target !== e.actor;
const isConversation = (type: string) => type === 'reply' || type === 'mention';

/**
 * Event types whose effect depends on more than one pair's counters: the recounts need them in
 * memory. The others (likes, reposts) are folded in by SQL alone, unless they name one account only.
 */
export const RECOUNTED_TYPES = ['follow', 'unfollow', 'reply', 'mention', 'post'] as const;

export function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

export const STATS_COUNTERS = [
  ...PAIR_COUNTERS,
  'conversationsReceived',
  'conversationsAnswered',
  'posts',
  'linkPosts',
  'questionPosts',
  'duplicatePosts',
  'follows',
  'quickUnfollows',
] as const;

/** Counter changes per account; every field is added to the account's stored value. */
export type StatsDelta = Record<(typeof STATS_COUNTERS)[number], number>;

// Copied for every account a batch names: a spread of a ready object, not one built key by key.
const NO_CHANGE = Object.fromEntries(STATS_COUNTERS.map((k) => [k, 0])) as unknown as StatsDelta;

/** Accumulates per-account changes of a batch (or, negated, of an erasure). */
export class Deltas {
  readonly stats = new Map<string, StatsDelta>();
  readonly peaks = new Map<string, number>();
  readonly delays = new Map<string, Map<number, number>>();

  of(account: string): StatsDelta {
    let d = this.stats.get(account);
    if (!d) {
      d = { ...NO_CHANGE };
      this.stats.set(account, d);
    }
    return d;
  }

  add(account: string, change: Partial<StatsDelta>) {
    const d = this.of(account);
    for (const k in change) d[k as keyof StatsDelta] += change[k as keyof StatsDelta]!;
  }

  /** The delay histogram's changes as rows (account, hours, change), in one global order. */
  delayRows(): (readonly [string, number, number])[] {
    return [...this.delays.entries()]
      .sort(([a], [b]) => compare(a, b))
      .flatMap(([account, h]) =>
        [...h.entries()]
          .sort(([a], [b]) => a - b)
          .filter(([, n]) => n !== 0)
          .map(([hours, n]) => [account, hours, n] as const),
      );
  }
}

export type PairRange = { actor: string; target: string; lo: bigint; hi: bigint };

/** A stored reply or mention (or one of the batch's). */
export interface ContextEvent {
  id: string;
  type: string;
  actor: string;
  target: string;
  at: bigint;
}

/**
 * The time ranges around new events per key, each event widened by `margin` on both sides and
 * overlapping ranges merged: events of one pair far apart in time give ranges of their own, so what
 * is read is bounded by the pair's traffic near the new events, never by its history in between.
 */
function spans(events: readonly PairEvent[], key: (e: PairEvent) => [string, string], margin: bigint): PairRange[] {
  const ranges: PairRange[] = [];
  for (const group of groupBy(events, (e) => pairKey(...key(e))).values()) {
    const [actor, target] = key(group[0]!);
    const times = group.map((e) => e.occurredAtMicros).sort(ascending);
    let current: PairRange | null = null;
    for (const t of times) {
      if (current && t - margin <= current.hi) current.hi = t + margin;
      else ranges.push((current = { actor, target, lo: t - margin, hi: t + margin }));
    }
  }
  return ranges;
}

/** Overlapping [lo, hi) ranges of one pair merged, so that no stored row is read twice. */
export function mergeRanges(ranges: PairRange[]): PairRange[] {
  const merged: PairRange[] = [];
  for (const group of groupBy(ranges, (r) => pairKey(r.actor, r.target)).values()) {
    group.sort((a, b) => ascending(a.lo, b.lo));
    let current: PairRange | null = null;
    for (const r of group) {
      if (current && r.lo <= current.hi) current.hi = r.hi > current.hi ? r.hi : current.hi;
      else merged.push((current = { ...r }));
    }
  }
  return merged;
}

const ordered = (e: { actor: string; target: string }): [string, string] => (e.actor < e.target ? [e.actor, e.target] : [e.target, e.actor]);

/**
 * response_rate's numerator and denominator: the batch's replies and mentions, and the ranges of
 * stored ones around them, both directions of each pair, that their answers depend on (answers can
 * arrive before or after what they answer, in any batch).
 */
export function conversationRanges(events: readonly NormalizedEvent[]): { talk: PairEvent[]; ranges: PairRange[] } {
  const talk = events.filter(isPairEvent).filter((e) => isConversation(e.type));
  const pairs = spans(talk, ordered, CONTEXT.responseWindow);
  return { talk, ranges: pairs.flatMap((p) => [p, { ...p, actor: p.target, target: p.actor }]) };
}

/** Adds the conversation counters' changes, given every reply and mention of `conversationRanges` (stored and new). */
export function addConversations(deltas: Deltas, talk: readonly PairEvent[], context: readonly ContextEvent[], newIds: Set<string>) {
  for (const e of talk) deltas.add(e.target, { conversationsReceived: 1 });
  const byPair = groupBy(context, (c) => pairKey(...ordered(c)));
  // A pair may have several ranges; its change is computed once, over all of them.
  for (const [key, [a, b]] of new Map(talk.map((e) => [pairKey(...ordered(e)), ordered(e)]))) {
    const all = byPair.get(key) ?? [];
    const timed = (from: string): Timed[] => all.filter((c) => c.actor === from).map((c) => ({ at: c.at, isNew: newIds.has(c.id) }));
    const fromA = timed(a);
    const fromB = timed(b);
    deltas.add(a, { conversationsAnswered: answeredDelta(fromB, fromA) });
    deltas.add(b, { conversationsAnswered: answeredDelta(fromA, fromB) });
  }
}

/** The batch's follows and unfollows between two accounts. */
export const followMarks = (events: readonly NormalizedEvent[]) => events.filter(isPairEvent).filter((e) => e.type === 'follow' || e.type === 'unfollow');

/** Adds `follows` for each new follow; answers the follows per (account, UTC day), in one global order. */
export function addFollows(deltas: Deltas, marks: readonly PairEvent[]): (readonly [string, string, number])[] {
  const days = new Map<string, { account: string; day: string; n: number }>();
  for (const e of marks) {
    if (e.type !== 'follow') continue;
    deltas.add(e.actor, { follows: 1 });
    const day = e.occurredAt.slice(0, 10);
    const k = pairKey(e.actor, day);
    const d = days.get(k);
    if (d) d.n++;
    else days.set(k, { account: e.actor, day, n: 1 });
  }
  return [...days.entries()].sort(([a], [b]) => compare(a, b)).map(([, d]) => [d.account, d.day, d.n] as const);
}

/** One gap of one pair's instants, where the stored unfollow nearest to `at` is looked for. */
export interface Gap {
  actor: string;
  target: string;
  at: bigint;
  /** RFC 3339 bounds, or ±infinity: (lo, hi]. */
  lo: string;
  hi: string;
}

/**
 * For "the first stored unfollow after each instant" (or, `before`, the last at or before it):
 * each pair's instants sorted, and each looked for only in the gap up to its neighbour, so that a
 * seek walks over none of the batch's own events but those at its bounds, and a batch of n events
 * of one pair costs O(n), never O(n²), whatever the pair's history. `nearestUnfollows` turns the
 * answers back into one per instant.
 */
export function unfollowGaps(instants: readonly PairEvent[], before: boolean, format: (micros: bigint) => string): Gap[] {
  const gaps: Gap[] = [];
  for (const group of groupBy(instants, (e) => pairKey(e.actor, e.target)).values()) {
    const { actor, target } = group[0]!;
    const times = [...new Set(group.map((e) => e.occurredAtMicros))].sort(ascending);
    times.forEach((t, j) => {
      const neighbour = before ? times[j - 1] : times[j + 1];
      const bound = neighbour === undefined ? (before ? '-infinity' : 'infinity') : format(neighbour);
      gaps.push({ actor, target, at: t, lo: before ? bound : format(t), hi: before ? format(t) : bound });
    });
  }
  return gaps;
}

/**
 * The stored unfollow nearest to each instant, by pairKey then instant, from what each gap of
 * `unfollowGaps` held (`inGap[i]`, undefined when empty): an empty gap has its neighbour's answer.
 */
export function nearestUnfollows(gaps: readonly Gap[], inGap: readonly (bigint | undefined)[], before: boolean): Map<string, Map<bigint, bigint>> {
  const found = new Map<string, Map<bigint, bigint>>();
  // Gaps come pair by pair, each pair's in time order: walk each from its open end.
  const order = gaps.map((_, i) => i);
  if (!before) order.reverse();
  let carried: bigint | undefined;
  let pair: string | undefined;
  for (const i of order) {
    const g = gaps[i]!;
    const key = pairKey(g.actor, g.target);
    if (key !== pair) {
      pair = key;
      carried = undefined;
    }
    carried = inGap[i] ?? carried;
    if (carried === undefined) continue;
    let answers = found.get(key);
    if (!answers) found.set(key, (answers = new Map<bigint, bigint>()));
    answers.set(g.at, carried);
  }
  return found;
}

/** The stored unfollows and follows a pair's churn recount needs (see `churnRanges`), by pairKey. */
export interface ChurnContext {
  unfollows: Map<string, bigint[]>;
  follows: Map<string, bigint[]>;
}

const push = (map: Map<string, bigint[]>, key: string, at: bigint) => {
  const list = map.get(key);
  if (list) list.push(at);
  else map.set(key, [at]);
};

/**
 * What a batch's follows and unfollows of pairs with history need to know of the stored ones, per
 * pair: the stored unfollows next to each new event (`after`, `before`: nearestUnfollows), and the
 * stored follows whose first later unfollow a new unfollow u replaces, those in the returned
 * ranges [max(the last stored unfollow ≤ u, u − MAX_CHURN), u). Given those, churnDelta's answer
 * equals a recount of the pair's whole history, and the cost is bounded by the follows whose delay
 * changes, never by the pair's history or by how many of the pair's events one batch holds.
 */
export function churnRanges(
  marks: readonly PairEvent[],
  after: Map<string, Map<bigint, bigint>>,
  before: Map<string, Map<bigint, bigint>>,
): { context: ChurnContext; ranges: PairRange[] } {
  const context: ChurnContext = { unfollows: new Map(), follows: new Map() };
  for (const e of marks) {
    const next = after.get(pairKey(e.actor, e.target))?.get(e.occurredAtMicros);
    if (next !== undefined) push(context.unfollows, pairKey(e.actor, e.target), next);
  }
  const ranges = mergeRanges(
    marks
      .filter((e) => e.type === 'unfollow')
      .map((e) => {
        const floor = e.occurredAtMicros - CONTEXT.maxChurn;
        const last = before.get(pairKey(e.actor, e.target))?.get(e.occurredAtMicros);
        if (last !== undefined) push(context.unfollows, pairKey(e.actor, e.target), last);
        return { actor: e.actor, target: e.target, lo: last !== undefined && last > floor ? last : floor, hi: e.occurredAtMicros };
      }),
  );
  // Unfollows are looked up by time only: one at the same instant twice is one and the same.
  for (const [key, list] of context.unfollows) context.unfollows.set(key, [...new Set(list)]);
  return { context, ranges };
}

/** Adds a stored follow found in one of `churnRanges`' ranges. */
export const addStoredFollow = (context: ChurnContext, actor: string, target: string, at: bigint) => push(context.follows, pairKey(actor, target), at);

/** Adds the unfollow-delay histogram's changes and quick_unfollows (at the default churn_hours). */
export function addChurn(deltas: Deltas, marks: readonly PairEvent[], context: ChurnContext) {
  for (const [key, pairMarks] of groupBy(marks, (e) => pairKey(e.actor, e.target))) {
    const { actor } = pairMarks[0]!;
    const timed = (type: string): Timed[] => [
      ...pairMarks.filter((e) => e.type === type).map((e) => ({ at: e.occurredAtMicros, isNew: true })),
      ...((type === 'follow' ? context.follows : context.unfollows).get(key) ?? []).map((at) => ({ at, isNew: false })),
    ];
    const change = churnDelta(timed('follow'), timed('unfollow'));
    if (change.size === 0) continue;
    let histogram = deltas.delays.get(actor);
    if (!histogram) deltas.delays.set(actor, (histogram = new Map<number, number>()));
    let quick = 0;
    for (const [hours, n] of change) {
      histogram.set(hours, (histogram.get(hours) ?? 0) + n);
      if (isQuickUnfollow(hours, DEFAULT_CHURN_HOURS)) quick += n;
    }
    deltas.add(actor, { quickUnfollows: quick });
  }
}

/** A fingerprint's new posts by one account. */
export interface FingerprintCount {
  account: string;
  fingerprint: Buffer;
  n: number;
}

/** Adds posts, link and question posts; answers the new posts per (account, fingerprint), in one global order. */
export function addPosts(deltas: Deltas, events: readonly NormalizedEvent[]): FingerprintCount[] {
  const fingerprints = new Map<string, FingerprintCount>();
  for (const p of events) {
    if (p.type !== 'post') continue;
    deltas.add(p.actor, { posts: 1, linkPosts: p.hasLink ? 1 : 0, questionPosts: p.isQuestion ? 1 : 0 });
    if (!p.fingerprint) continue;
    const k = pairKey(p.actor, p.fingerprint.toString('hex'));
    const f = fingerprints.get(k);
    if (f) f.n++;
    else fingerprints.set(k, { account: p.actor, fingerprint: p.fingerprint, n: 1 });
  }
  return [...fingerprints.entries()].sort(([a], [b]) => compare(a, b)).map(([, f]) => f);
}

/** k equal posts make k − 1 duplicates: the change when a fingerprint's `added` posts bring it to `total`. */
export function addDuplicates(deltas: Deltas, account: string, total: number, added: number) {
  const dup = (k: number) => Math.max(k - 1, 0);
  deltas.add(account, { duplicatePosts: dup(total) - dup(total - added) });
}
