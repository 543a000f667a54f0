import { INTERACTION_TYPES, type InteractionType, type NormalizedEvent } from '../domain/events.js';
import { clampMicros, formatMicros } from '../domain/time.js';
import {
  answeredDelta,
  churnDelta,
  CONTEXT,
  contributionDelta,
  PAIR_COUNTERS,
  type Counts,
  type PairState,
  type Timed,
} from '../scoring/pairs.js';
import { DEFAULT_CHURN_HOURS } from '../scoring/summary.js';
import { storeSpamScores } from './stats.js';
import { iso, prepared, type Queryable } from './client.js';

/** A follow/unfollow seen for one direction of a pair. */
interface FollowMark {
  at: string;
  micros: bigint;
  follows: boolean;
}

/** Later wins; on a tie, unfollow wins (SPEC §2). Commutative, so arrival order cannot matter. */
function laterMark(a: FollowMark | null, b: FollowMark): FollowMark {
  if (!a || b.micros > a.micros || (b.micros === a.micros && !b.follows)) return b;
  return a;
}

interface RowDelta {
  account: string;
  other: string;
  out: FollowMark | null;
  in: FollowMark | null;
  outCounts: Counts;
  inCounts: Counts;
}

const zeroCounts = (): Counts => ({ like: 0, reply: 0, mention: 0, repost: 0 });
export const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** Accounts hold no control characters, so a newline cannot occur inside either part. */
export const pairKey = (a: string, b: string) => `${a}\n${b}`;
type PairEvent = NormalizedEvent & { target: string };
const isPairEvent = (e: NormalizedEvent): e is PairEvent => e.target !== null && e.target !== e.actor;
const isConversation = (type: string) => type === 'reply' || type === 'mention';

/** Folds new events into one delta per (account, other) row, both orders of each pair. */
export function relationshipDeltas(events: readonly NormalizedEvent[]): RowDelta[] {
  const rows = new Map<string, RowDelta>();
  const row = (account: string, other: string) => {
    const key = pairKey(account, other);
    let r = rows.get(key);
    if (!r) {
      r = { account, other, out: null, in: null, outCounts: zeroCounts(), inCounts: zeroCounts() };
      rows.set(key, r);
    }
    return r;
  };
  for (const e of events) {
    if (!isPairEvent(e)) continue;
    const forward = row(e.actor, e.target);
    const backward = row(e.target, e.actor);
    if (e.type === 'follow' || e.type === 'unfollow') {
      const mark = { at: e.occurredAt, micros: e.occurredAtMicros, follows: e.type === 'follow' };
      forward.out = laterMark(forward.out, mark);
      backward.in = laterMark(backward.in, mark);
    } else if (e.type !== 'post') {
      forward.outCounts[e.type]++;
      backward.inCounts[e.type]++;
    }
  }
  // One global order for every writer, so concurrent batches take row locks in the same order.
  return [...rows.values()].sort((a, b) => compare(a.account, b.account) || compare(a.other, b.other));
}

const wins = (dir: 'out' | 'in') =>
  `(EXCLUDED.${dir}_follow_at IS NOT NULL AND (r.${dir}_follow_at IS NULL
     OR EXCLUDED.${dir}_follow_at > r.${dir}_follow_at
     OR (EXCLUDED.${dir}_follow_at = r.${dir}_follow_at AND NOT EXCLUDED.${dir}_follows)))`;

const COUNT_COLUMNS = INTERACTION_TYPES.flatMap((t) => [`out_${t}`, `in_${t}`]);

const UPSERT_RELATIONSHIPS = prepared(`
  INSERT INTO relationships AS r (workspace_id, account, other, out_follow_at, out_follows, in_follow_at, in_follows,
                                  ${COUNT_COLUMNS.join(', ')})
  SELECT $1, u.* FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::bool[], $6::timestamptz[], $7::bool[],
                             ${COUNT_COLUMNS.map((_, i) => `$${i + 8}::int[]`).join(', ')}) AS u
  ON CONFLICT (workspace_id, account, other) DO UPDATE SET
    prev_out_follows = r.out_follows,
    prev_in_follows = r.in_follows,
    out_follows = CASE WHEN ${wins('out')} THEN EXCLUDED.out_follows ELSE r.out_follows END,
    out_follow_at = CASE WHEN ${wins('out')} THEN EXCLUDED.out_follow_at ELSE r.out_follow_at END,
    in_follows = CASE WHEN ${wins('in')} THEN EXCLUDED.in_follows ELSE r.in_follows END,
    in_follow_at = CASE WHEN ${wins('in')} THEN EXCLUDED.in_follow_at ELSE r.in_follow_at END,
    ${COUNT_COLUMNS.map((c) => `${c} = r.${c} + EXCLUDED.${c}`).join(',\n    ')}
  RETURNING account, other, (r.xmax = 0) AS fresh, prev_out_follows, prev_in_follows, out_follows, in_follows,
            ${COUNT_COLUMNS.join(', ')}`);

type RelationshipRow = { account: string; other: string; fresh: boolean } & Record<string, boolean | number>;

// Written out rather than mapped over INTERACTION_TYPES: this runs for every row of every batch.
const countsOf = (row: RelationshipRow, dir: 'out' | 'in'): Counts => ({
  like: Number(row[`${dir}_like`]),
  reply: Number(row[`${dir}_reply`]),
  mention: Number(row[`${dir}_mention`]),
  repost: Number(row[`${dir}_repost`]),
});
const minus = (c: Counts, d: Counts): Counts => ({
  like: c.like - d.like,
  reply: c.reply - d.reply,
  mention: c.mention - d.mention,
  repost: c.repost - d.repost,
});

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

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

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
}

/**
 * Upserts the batch's relationship rows and adds their contribution changes to `deltas`. Returns
 * the pairs whose rows did not exist before: between those two accounts no event was stored
 * before this batch, so the batch alone is their whole history.
 */
async function applyRelationships(
  tx: Queryable,
  workspaceId: number,
  events: readonly NormalizedEvent[],
  deltas: Deltas,
): Promise<Set<string>> {
  const fresh = new Set<string>();
  const rows = relationshipDeltas(events);
  if (rows.length === 0) return fresh;
  const added = new Map(rows.map((r) => [pairKey(r.account, r.other), r]));
  const counts = COUNT_COLUMNS.map((c) => {
    const [dir, type] = c.split('_') as ['out' | 'in', InteractionType];
    return rows.map((d) => (dir === 'out' ? d.outCounts : d.inCounts)[type]);
  });
  const result = await tx.query<RelationshipRow>(UPSERT_RELATIONSHIPS, [
    workspaceId,
    rows.map((d) => d.account),
    rows.map((d) => d.other),
    rows.map((d) => d.out?.at ?? null),
    rows.map((d) => d.out?.follows ?? false),
    rows.map((d) => d.in?.at ?? null),
    rows.map((d) => d.in?.follows ?? false),
    ...counts,
  ]);
  for (const row of result) {
    const key = pairKey(row.account, row.other);
    if (row.fresh) fresh.add(key);
    const add = added.get(key)!;
    const after: PairState = {
      outFollows: Boolean(row.out_follows),
      inFollows: Boolean(row.in_follows),
      out: countsOf(row, 'out'),
      in: countsOf(row, 'in'),
    };
    const before: PairState = {
      outFollows: Boolean(row.prev_out_follows),
      inFollows: Boolean(row.prev_in_follows),
      out: minus(after.out, add.outCounts),
      in: minus(after.in, add.inCounts),
    };
    deltas.add(row.account, contributionDelta(before, after));
  }
  return fresh;
}

const micros = (column: string) => `(extract(epoch FROM ${column}) * 1000000)::int8::text`;

// Recounts compare the batch with what is already projected: events still queued for the
// projector (stored, but not yet folded in), the batch's own among them (they leave the queue at
// the end of its transaction), are left out of every context query; the batch comes from memory.
const PROJECTED = 'AND NOT EXISTS (SELECT 1 FROM pending_events q WHERE q.workspace_id = e.workspace_id AND q.event_id = e.event_id)';

interface ContextEvent {
  id: string;
  type: string;
  actor: string;
  target: string;
  at: bigint;
}

type PairRange = { actor: string; target: string; lo: bigint; hi: bigint };

/**
 * Every reply and mention from actor to target with occurred_at in [lo, hi], for each range: the
 * 72 hours around new conversation events, so the cost is bounded by a pair's traffic in that
 * window, not by its history. The batch's own conversation events come from `batch`; the projected
 * ones from the table, except for a `fresh` pair, which has none.
 */
async function conversationEvents(
  tx: Queryable,
  workspaceId: number,
  ranges: PairRange[],
  batch: readonly PairEvent[],
  fresh: Set<string>,
): Promise<ContextEvent[]> {
  const stored = ranges.filter((r) => !fresh.has(pairKey(r.actor, r.target)));
  const fromBatch: ContextEvent[] = batch.map((e) => ({ id: e.id, type: e.type, actor: e.actor, target: e.target, at: e.occurredAtMicros }));
  if (stored.length === 0) return fromBatch;
  const rows = await tx.query<{ event_id: string; type: string; actor: string; target: string; micros: string }>(
    // One index range scan per pair, whatever the planner's statistics say: without OFFSET 0 the
    // planner pulls the LATERAL subquery up into a plain join, and with statistics that predate the
    // rows (a fresh table, an import under way, no autovacuum) it then reads every pair event of
    // the workspace for each batch.
    `SELECT e.event_id, e.type::text AS type, e.actor, e.target, ${micros('e.occurred_at')} AS micros
       FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) AS p(actor, target, lo, hi)
       CROSS JOIN LATERAL (
         SELECT * FROM events e
          WHERE e.workspace_id = $1 AND e.actor = p.actor AND e.target = p.target
            AND e.occurred_at BETWEEN p.lo AND p.hi AND e.type IN ('reply', 'mention')
            ${PROJECTED}
         OFFSET 0
       ) e`,
    [
      workspaceId,
      stored.map((r) => r.actor),
      stored.map((r) => r.target),
      stored.map((r) => formatMicros(clampMicros(r.lo))),
      stored.map((r) => formatMicros(clampMicros(r.hi))),
    ],
  );
  return fromBatch.concat(rows.map((r) => ({ id: r.event_id, type: r.type, actor: r.actor, target: r.target, at: BigInt(r.micros) })));
}

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

/**
 * The time ranges around new events per key, each event widened by `margin` on both sides and
 * overlapping ranges merged: events of one pair far apart in time give ranges of their own, so what
 * is read is bounded by the pair's traffic near the new events, never by its history in between.
 */
function spans(events: readonly PairEvent[], key: (e: PairEvent) => [string, string], margin: bigint): PairRange[] {
  const byKey = groupBy(events, (e) => pairKey(...key(e)));
  const ranges: PairRange[] = [];
  for (const group of byKey.values()) {
    const [actor, target] = key(group[0]!);
    const times = group.map((e) => e.occurredAtMicros).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    let current: PairRange | null = null;
    for (const t of times) {
      if (current && t - margin <= current.hi) current.hi = t + margin;
      else ranges.push((current = { actor, target, lo: t - margin, hi: t + margin }));
    }
  }
  return ranges;
}

/** What the recounts work on: the new events, which pairs had no history, and the changes so far. */
interface Recount {
  tx: Queryable;
  workspaceId: number;
  events: readonly NormalizedEvent[];
  newIds: Set<string>;
  fresh: Set<string>;
  deltas: Deltas;
}

/** response_rate's numerator: answers can arrive before or after what they answer, in any batch. */
async function applyConversations({ tx, workspaceId, events, newIds, fresh, deltas }: Recount) {
  const talk = events.filter(isPairEvent).filter((e) => isConversation(e.type));
  for (const e of talk) deltas.add(e.target, { conversationsReceived: 1 });
  const ordered = (e: { actor: string; target: string }): [string, string] =>
    e.actor < e.target ? [e.actor, e.target] : [e.target, e.actor];
  const pairs = spans(talk, ordered, CONTEXT.responseWindow);
  const context = await conversationEvents(
    tx,
    workspaceId,
    pairs.flatMap((p) => [p, { ...p, actor: p.target, target: p.actor }]),
    talk,
    fresh,
  );
  const byPair = groupBy(context, (c) => pairKey(...ordered(c)));
  // A pair may have several ranges; its delta is computed once, over all of them.
  for (const p of new Map(pairs.map((r) => [pairKey(r.actor, r.target), r])).values()) {
    const all = byPair.get(pairKey(p.actor, p.target)) ?? [];
    const timed = (from: string): Timed[] =>
      all.filter((c) => c.actor === from).map((c) => ({ at: c.at, isNew: newIds.has(c.id) }));
    const fromA = timed(p.actor);
    const fromB = timed(p.target);
    deltas.add(p.actor, { conversationsAnswered: answeredDelta(fromB, fromA) });
    deltas.add(p.target, { conversationsAnswered: answeredDelta(fromA, fromB) });
  }
}

/**
 * For each probe, the first projected unfollow of actor→target after `at` (or, `before`, the last
 * at or before it): one index seek on events_pair_type_time each, however long the pair's history.
 * The batch being folded is still queued, so it is left out like every queued event.
 */
async function unfollowNeighbours(
  tx: Queryable,
  workspaceId: number,
  probes: { actor: string; target: string; at: bigint }[],
  before: boolean,
): Promise<(bigint | null)[]> {
  const found = new Array<bigint | null>(probes.length).fill(null);
  if (probes.length === 0) return found;
  const rows = await tx.query<{ i: string; micros: string }>(
    `SELECT p.i::text AS i, ${micros('e.occurred_at')} AS micros
       FROM unnest($2::text[], $3::text[], $4::timestamptz[]) WITH ORDINALITY AS p(actor, target, at, i)
       CROSS JOIN LATERAL (
         SELECT event_id, occurred_at FROM events e
          WHERE e.workspace_id = $1 AND e.actor = p.actor AND e.target = p.target AND e.type = 'unfollow'
            AND ${before ? 'e.occurred_at <= p.at' : 'e.occurred_at > p.at'}
            ${PROJECTED}
          ORDER BY e.occurred_at ${before ? 'DESC' : ''} LIMIT 1
       ) e`,
    [workspaceId, probes.map((p) => p.actor), probes.map((p) => p.target), probes.map((p) => formatMicros(clampMicros(p.at)))],
  );
  for (const r of rows) found[Number(r.i) - 1] = BigInt(r.micros);
  return found;
}

/** Overlapping [lo, hi) ranges of one pair merged, so that no stored row is read twice. */
function mergeRanges(ranges: PairRange[]): PairRange[] {
  const merged: PairRange[] = [];
  for (const group of groupBy(ranges, (r) => pairKey(r.actor, r.target)).values()) {
    group.sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
    let current: PairRange | null = null;
    for (const r of group) {
      if (current && r.lo <= current.hi) current.hi = r.hi > current.hi ? r.hi : current.hi;
      else merged.push((current = { ...r }));
    }
  }
  return merged;
}

/**
 * What a batch's follows and unfollows of pairs with history need to know of the projected ones,
 * per pair: the projected unfollows next to each new event, and the projected follows whose first
 * later unfollow a new unfollow u replaces, those in [max(the last projected unfollow ≤ u,
 * u − MAX_CHURN), u). Given those, churnDelta's answer equals a recount of the pair's whole history,
 * and the cost is bounded by the follows whose delay changes, never by the pair's history or by how
 * many of the pair's events one batch holds.
 */
async function churnContext(tx: Queryable, workspaceId: number, marks: readonly PairEvent[]) {
  const unfollows = new Map<string, bigint[]>();
  const follows = new Map<string, bigint[]>();
  if (marks.length === 0) return { unfollows, follows };
  const add = (map: Map<string, bigint[]>, key: string, at: bigint) => {
    const list = map.get(key);
    if (list) list.push(at);
    else map.set(key, [at]);
  };
  const probe = (e: PairEvent) => ({ actor: e.actor, target: e.target, at: e.occurredAtMicros });
  const after = await unfollowNeighbours(tx, workspaceId, marks.map(probe), false);
  marks.forEach((e, i) => {
    const next = after[i];
    if (next != null) add(unfollows, pairKey(e.actor, e.target), next);
  });
  const newUnfollows = marks.filter((e) => e.type === 'unfollow');
  const before = await unfollowNeighbours(tx, workspaceId, newUnfollows.map(probe), true);
  const ranges = mergeRanges(
    newUnfollows.map((e, i) => {
      const floor = e.occurredAtMicros - CONTEXT.maxChurn;
      const last = before[i];
      if (last != null) add(unfollows, pairKey(e.actor, e.target), last);
      return { actor: e.actor, target: e.target, lo: last != null && last > floor ? last : floor, hi: e.occurredAtMicros };
    }),
  );
  // Unfollows are looked up by time only: one at the same instant twice is one and the same.
  for (const [key, list] of unfollows) unfollows.set(key, [...new Set(list)]);
  if (ranges.length > 0) {
    const rows = await tx.query<{ actor: string; target: string; micros: string }>(
      `SELECT e.actor, e.target, ${micros('e.occurred_at')} AS micros
         FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) AS p(actor, target, lo, hi)
         CROSS JOIN LATERAL (
           SELECT actor, target, occurred_at FROM events e
            WHERE e.workspace_id = $1 AND e.actor = p.actor AND e.target = p.target AND e.type = 'follow'
              AND e.occurred_at >= p.lo AND e.occurred_at < p.hi
              ${PROJECTED}
           OFFSET 0
         ) e`,
      [
        workspaceId,
        ranges.map((r) => r.actor),
        ranges.map((r) => r.target),
        ranges.map((r) => formatMicros(clampMicros(r.lo))),
        ranges.map((r) => formatMicros(clampMicros(r.hi))),
      ],
    );
    for (const r of rows) add(follows, pairKey(r.actor, r.target), BigInt(r.micros));
  }
  return { unfollows, follows };
}

/** follows, follow_days and the unfollow-delay histogram (quick_unfollows for any churn_hours). */
async function applyFollowChurn({ tx, workspaceId, events, fresh, deltas }: Recount) {
  const marks = events.filter(isPairEvent).filter((e) => e.type === 'follow' || e.type === 'unfollow');
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
  if (days.size > 0) {
    const entries = [...days.entries()].sort(([a], [b]) => compare(a, b)).map(([, d]) => [d.account, d.day, d.n] as const);
    const rows = await tx.query<{ account: string; follows: number }>(
      prepared(`INSERT INTO follow_days AS d (workspace_id, account, day, follows)
       SELECT $1, u.* FROM unnest($2::text[], $3::date[], $4::int[]) AS u
       ON CONFLICT (workspace_id, account, day) DO UPDATE SET follows = d.follows + EXCLUDED.follows
       RETURNING account, follows`),
      [workspaceId, entries.map((e) => e[0]), entries.map((e) => e[1]), entries.map((e) => e[2])],
    );
    for (const r of rows) deltas.peaks.set(r.account, Math.max(deltas.peaks.get(r.account) ?? 0, r.follows));
  }
  const byPair = groupBy(marks, (e) => pairKey(e.actor, e.target));
  const context = await churnContext(tx, workspaceId, marks.filter((e) => !fresh.has(pairKey(e.actor, e.target))));
  for (const [key, pairMarks] of byPair) {
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
      if (hours <= DEFAULT_CHURN_HOURS) quick += n;
    }
    deltas.add(actor, { quickUnfollows: quick });
  }
  const flat = [...deltas.delays.entries()]
    .sort(([a], [b]) => compare(a, b))
    .flatMap(([account, h]) => [...h.entries()].sort(([a], [b]) => a - b).filter(([, n]) => n !== 0).map(([hours, n]) => [account, hours, n] as const));
  if (flat.length > 0) {
    await tx.query(
      prepared(`INSERT INTO unfollow_delays AS d (workspace_id, account, hours, follows)
       SELECT $1, u.* FROM unnest($2::text[], $3::int[], $4::int[]) AS u
       ON CONFLICT (workspace_id, account, hours) DO UPDATE SET follows = d.follows + EXCLUDED.follows`),
      [workspaceId, flat.map((f) => f[0]), flat.map((f) => f[1]), flat.map((f) => f[2])],
    );
  }
}

/** posts, link/question posts and duplicates (through the per-fingerprint counts). */
async function applyPosts(tx: Queryable, workspaceId: number, events: readonly NormalizedEvent[], deltas: Deltas) {
  const posts = events.filter((e) => e.type === 'post');
  const fingerprints = new Map<string, { account: string; fingerprint: Buffer; n: number }>();
  for (const p of posts) {
    deltas.add(p.actor, { posts: 1, linkPosts: p.hasLink ? 1 : 0, questionPosts: p.isQuestion ? 1 : 0 });
    if (!p.fingerprint) continue;
    const k = pairKey(p.actor, p.fingerprint.toString('hex'));
    const f = fingerprints.get(k);
    if (f) f.n++;
    else fingerprints.set(k, { account: p.actor, fingerprint: p.fingerprint, n: 1 });
  }
  if (fingerprints.size === 0) return;
  const list = [...fingerprints.entries()].sort(([a], [b]) => compare(a, b)).map(([, f]) => f);
  const rows = await tx.query<{ account: string; fingerprint: Uint8Array; posts: number }>(
    prepared(`INSERT INTO post_fingerprints AS f (workspace_id, account, fingerprint, posts)
     SELECT $1, u.* FROM unnest($2::text[], $3::bytea[], $4::int[]) AS u
     ON CONFLICT (workspace_id, account, fingerprint) DO UPDATE SET posts = f.posts + EXCLUDED.posts
     RETURNING account, fingerprint, posts`),
    [workspaceId, list.map((f) => f.account), list.map((f) => f.fingerprint), list.map((f) => f.n)],
  );
  for (const r of rows) {
    const added = fingerprints.get(pairKey(r.account, Buffer.from(r.fingerprint).toString('hex')))!.n;
    // k equal posts make k − 1 duplicates.
    const dup = (k: number) => Math.max(k - 1, 0);
    deltas.add(r.account, { duplicatePosts: dup(r.posts) - dup(r.posts - added) });
  }
}

const STATS_COLUMNS = STATS_COUNTERS.map(snake);

const UPSERT_STATS = prepared(`
  INSERT INTO account_stats AS s (workspace_id, account, ${STATS_COLUMNS.join(', ')}, peak_daily_follows)
  SELECT $1, u.* FROM unnest($2::text[], ${STATS_COLUMNS.map((_, i) => `$${i + 3}::int8[]`).join(', ')},
                             $${STATS_COLUMNS.length + 3}::int8[]) AS u
  ON CONFLICT (workspace_id, account) DO UPDATE SET
    ${STATS_COLUMNS.map((c) => `${c} = s.${c} + EXCLUDED.${c}`).join(',\n    ')},
    peak_daily_follows = GREATEST(s.peak_daily_follows, EXCLUDED.peak_daily_follows)
  RETURNING account, ${STATS_COLUMNS.join(', ')}, peak_daily_follows, spam_score`);

/** Adds the batch's changes to account_stats and refreshes the stored spam score of every account touched. */
export async function applyStats(tx: Queryable, workspaceId: number, deltas: Deltas) {
  const accounts = [...new Set([...deltas.stats.keys(), ...deltas.peaks.keys()])].sort(compare);
  if (accounts.length === 0) return;
  const columns = STATS_COUNTERS.map((k) => accounts.map((a) => deltas.stats.get(a)?.[k] ?? 0));
  const rows = await tx.query<Record<string, number> & { account: string }>(UPSERT_STATS, [
    workspaceId,
    accounts,
    ...columns,
    accounts.map((a) => deltas.peaks.get(a) ?? 0),
  ]);
  await storeSpamScores(tx, workspaceId, rows);
}

/** Brings every derived table up to date with newly stored events (none of them stored before). */
export async function applyDerivedState(tx: Queryable, workspaceId: number, events: readonly NormalizedEvent[]) {
  if (events.length === 0) return;
  const newIds = new Set(events.map((e) => e.id));
  const deltas = new Deltas();
  // Every account an event names has a row, so the ranking lists exactly the accounts that exist.
  for (const e of events) {
    deltas.of(e.actor);
    if (e.target !== null) deltas.of(e.target);
  }
  const fresh = await applyRelationships(tx, workspaceId, events, deltas);
  const recount: Recount = { tx, workspaceId, events, newIds, fresh, deltas };
  await applyConversations(recount);
  await applyFollowChurn(recount);
  await applyPosts(tx, workspaceId, events, deltas);
  await applyStats(tx, workspaceId, deltas);
}

export interface FollowState {
  follows: boolean;
  since: string | null;
}

/** The current follow state of actor→target. */
export async function followState(db: Queryable, workspaceId: number, actor: string, target: string): Promise<FollowState> {
  const rows = await db.query<{ follows: boolean; since: string | null }>(
    `SELECT out_follows AS follows, ${iso('out_follow_at')} AS since FROM relationships
      WHERE workspace_id = $1 AND account = $2 AND other = $3`,
    [workspaceId, actor, target],
  );
  return rows[0] ?? { follows: false, since: null };
}
