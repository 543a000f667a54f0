import { INTERACTION_TYPES, type NormalizedEvent } from '../domain/events.js';
import { clampMicros, formatMicros } from '../domain/time.js';
import { answeredDelta, churnDelta, CONTEXT, PAIR_COUNTERS, PAIR_RULES, type PairCounter, type Timed } from '../scoring/pairs.js';
import { DEFAULT_CHURN_HOURS } from '../scoring/summary.js';
import { storeSpamScores, type StatsRow } from './stats.js';
import { iso, prepared, type Queryable } from './client.js';

export const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** Accounts hold no control characters, so a newline cannot occur inside either part. */
export const pairKey = (a: string, b: string) => `${a}\n${b}`;
type PairEvent = NormalizedEvent & { target: string };
const isPairEvent = (e: NormalizedEvent): e is PairEvent => e.target !== null && e.target !== e.actor;
const isConversation = (type: string) => type === 'reply' || type === 'mention';

/** Event types whose effect depends on more than one pair's counters: the recounts need them in memory. */
export const RECOUNTED_TYPES = ['follow', 'unfollow', 'reply', 'mention', 'post'] as const;

const wins = (dir: 'out' | 'in') =>
  `(EXCLUDED.${dir}_follow_at IS NOT NULL AND (r.${dir}_follow_at IS NULL
     OR EXCLUDED.${dir}_follow_at > r.${dir}_follow_at
     OR (EXCLUDED.${dir}_follow_at = r.${dir}_follow_at AND NOT EXCLUDED.${dir}_follows)))`;

const COUNT_COLUMNS = INTERACTION_TYPES.flatMap((t) => [`out_${t}`, `in_${t}`]);

// A pair's counters after the upsert, and before it: the follow flags the row had (prev_*) and the
// counts less what the batch added.
const after = (column: string) => `up.${column}`;
const before = (column: string) => (column.endsWith('_follows') ? `up.prev_${column}` : `(up.${column} - added.${column})`);

/**
 * The relationships half of a fold, in one statement: the batch's pair events are grouped per
 * (account, other) row, both orders of each pair (the latest follow mark of each direction wins,
 * on a tie the unfollow, as SPEC §2 says; counts add up), upserted, and each account's counters
 * change by what its rows contribute after the upsert less what they contributed before
 * (PAIR_RULES, the rules reads and erasure use). Answers one row per account: those changes, and
 * the partners with whom the account had no row before (`fresh`: no event of the pair was
 * projected before), which the recounts need not look up.
 */
const FOLD_RELATIONSHIPS = prepared(`
  WITH batch AS (
    SELECT e.actor, e.target, e.type, e.occurred_at
      FROM pending_events p JOIN events e ON e.workspace_id = p.workspace_id AND e.event_id = p.event_id
     WHERE p.workspace_id = $1 AND p.seq = ANY($2::int8[]) AND e.target IS NOT NULL AND e.target <> e.actor AND e.type <> 'post'
  ), sides AS (
    SELECT actor AS account, target AS other, true AS out, type, occurred_at FROM batch
    UNION ALL
    SELECT target, actor, false, type, occurred_at FROM batch
  ), marks AS (
    SELECT DISTINCT ON (account, other, out) account, other, out, occurred_at AS at, type = 'follow' AS follows
      FROM sides WHERE type IN ('follow', 'unfollow')
     ORDER BY account, other, out, occurred_at DESC, type = 'unfollow' DESC
  ), added AS (
    SELECT account, other, ${INTERACTION_TYPES.flatMap((t) => [
      `(count(*) FILTER (WHERE out AND type = '${t}'))::int AS out_${t}`,
      `(count(*) FILTER (WHERE NOT out AND type = '${t}'))::int AS in_${t}`,
    ]).join(', ')},
           bool_or(type IN ('follow', 'unfollow', 'reply', 'mention')) AS recounted
      FROM sides GROUP BY account, other
  ), up AS (
    INSERT INTO relationships AS r (workspace_id, account, other, out_follow_at, out_follows, in_follow_at, in_follows,
                                    ${COUNT_COLUMNS.join(', ')})
    SELECT $1, a.account, a.other, o.at, COALESCE(o.follows, false), i.at, COALESCE(i.follows, false), ${COUNT_COLUMNS.map((c) => `a.${c}`).join(', ')}
      FROM added a
      LEFT JOIN marks o ON o.account = a.account AND o.other = a.other AND o.out
      LEFT JOIN marks i ON i.account = a.account AND i.other = a.other AND NOT i.out
     ORDER BY a.account, a.other
    ON CONFLICT (workspace_id, account, other) DO UPDATE SET
      prev_out_follows = r.out_follows,
      prev_in_follows = r.in_follows,
      out_follows = CASE WHEN ${wins('out')} THEN EXCLUDED.out_follows ELSE r.out_follows END,
      out_follow_at = CASE WHEN ${wins('out')} THEN EXCLUDED.out_follow_at ELSE r.out_follow_at END,
      in_follows = CASE WHEN ${wins('in')} THEN EXCLUDED.in_follows ELSE r.in_follows END,
      in_follow_at = CASE WHEN ${wins('in')} THEN EXCLUDED.in_follow_at ELSE r.in_follow_at END,
      ${COUNT_COLUMNS.map((c) => `${c} = r.${c} + EXCLUDED.${c}`).join(',\n      ')}
    RETURNING r.account, r.other, (r.xmax = 0) AS fresh, r.prev_out_follows, r.prev_in_follows, r.out_follows, r.in_follows,
              ${COUNT_COLUMNS.map((c) => `r.${c}`).join(', ')}
  )
  SELECT up.account, array_agg(up.other) FILTER (WHERE up.fresh AND added.recounted) AS fresh,
         ${PAIR_COUNTERS.map((k) => `sum(${PAIR_RULES[k].sql(after)} - ${PAIR_RULES[k].sql(before)})::int8 AS "${k}"`).join(',\n         ')}
    FROM up JOIN added ON added.account = up.account AND added.other = up.other
   GROUP BY up.account`);

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
 * Folds the batch's pair events into relationships and their contribution changes into `deltas`
 * (FOLD_RELATIONSHIPS). Returns the pairs whose rows did not exist before, among those the
 * recounts look at: between those two accounts no event was projected before this batch, so the
 * batch alone is their whole history.
 */
async function applyRelationships(tx: Queryable, workspaceId: number, seqs: readonly number[], deltas: Deltas): Promise<Set<string>> {
  const fresh = new Set<string>();
  const rows = await tx.query<Record<PairCounter, number> & { account: string; fresh: string[] | null }>(FOLD_RELATIONSHIPS, [workspaceId, seqs]);
  for (const row of rows) {
    const d = deltas.of(row.account);
    for (const k of PAIR_COUNTERS) d[k] += Number(row[k]);
    for (const other of row.fresh ?? []) fresh.add(pairKey(row.account, other));
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
 * The projected unfollows of actor→target next to the given instants of each pair: the first one
 * after each instant (or, `before`, the last at or before it), keyed by pairKey, then by instant.
 * The batch being folded is still queued, so it is left out like every queued event. Each pair's
 * instants are sorted and each is looked for only in the gap up to its neighbour (one index range
 * on events_pair_type_time each); an empty gap takes the neighbour's answer. So a seek walks over
 * no queued event of the batch but those at its own bounds, and a batch of n events of one pair
 * costs O(n), never O(n²), whatever its pair's history.
 */
async function unfollowNeighbours(
  tx: Queryable,
  workspaceId: number,
  instants: readonly PairEvent[],
  before: boolean,
): Promise<Map<string, Map<bigint, bigint>>> {
  const found = new Map<string, Map<bigint, bigint>>();
  if (instants.length === 0) return found;
  const probes: { key: string; actor: string; target: string; times: bigint[] }[] = [];
  for (const [key, group] of groupBy(instants, (e) => pairKey(e.actor, e.target))) {
    const times = [...new Set(group.map((e) => e.occurredAtMicros))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    probes.push({ key, actor: group[0]!.actor, target: group[0]!.target, times });
  }
  const gaps = probes.flatMap((p, i) =>
    p.times.map((t, j) => {
      const neighbour = before ? p.times[j - 1] : p.times[j + 1];
      const bound = neighbour === undefined ? (before ? '-infinity' : 'infinity') : formatMicros(neighbour);
      return { probe: i, at: t, lo: before ? bound : formatMicros(t), hi: before ? formatMicros(t) : bound };
    }),
  );
  const rows = await tx.query<{ i: string; micros: string }>(
    `SELECT p.i::text AS i, ${micros('e.occurred_at')} AS micros
       FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) WITH ORDINALITY AS p(actor, target, lo, hi, i)
       CROSS JOIN LATERAL (
         SELECT event_id, occurred_at FROM events e
          WHERE e.workspace_id = $1 AND e.actor = p.actor AND e.target = p.target AND e.type = 'unfollow'
            AND e.occurred_at > p.lo AND e.occurred_at <= p.hi
            ${PROJECTED}
          ORDER BY e.occurred_at ${before ? 'DESC' : ''} LIMIT 1
       ) e`,
    [workspaceId, gaps.map((g) => probes[g.probe]!.actor), gaps.map((g) => probes[g.probe]!.target), gaps.map((g) => g.lo), gaps.map((g) => g.hi)],
  );
  const inGap = new Map(rows.map((r) => [Number(r.i) - 1, BigInt(r.micros)]));
  let g = 0;
  for (const p of probes) {
    const answers = new Map<bigint, bigint>();
    const first = g;
    g += p.times.length;
    // An empty gap has its neighbour's answer: walk from the open end towards it.
    let carried: bigint | undefined;
    for (let k = 0; k < p.times.length; k++) {
      const j = before ? k : p.times.length - 1 - k;
      carried = inGap.get(first + j) ?? carried;
      if (carried !== undefined) answers.set(p.times[j]!, carried);
    }
    found.set(p.key, answers);
  }
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
  const after = await unfollowNeighbours(tx, workspaceId, marks, false);
  for (const e of marks) {
    const next = after.get(pairKey(e.actor, e.target))?.get(e.occurredAtMicros);
    if (next !== undefined) add(unfollows, pairKey(e.actor, e.target), next);
  }
  const newUnfollows = marks.filter((e) => e.type === 'unfollow');
  const before = await unfollowNeighbours(tx, workspaceId, newUnfollows, true);
  const ranges = mergeRanges(
    newUnfollows.map((e) => {
      const floor = e.occurredAtMicros - CONTEXT.maxChurn;
      const last = before.get(pairKey(e.actor, e.target))?.get(e.occurredAtMicros);
      if (last !== undefined) add(unfollows, pairKey(e.actor, e.target), last);
      return { actor: e.actor, target: e.target, lo: last !== undefined && last > floor ? last : floor, hi: e.occurredAtMicros };
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
    if (!histogram) deltas.delays.set(actor, (histogram = new Map()));
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
// The rows an observed upsert is about to change, as they are before it: counters alone could be
// subtracted back, but peak_daily_follows is a maximum. Locked, so they are still what the upsert
// writes over. A separate statement, not a CTE beside the upsert: Citus runs an INSERT … SELECT
// FROM unnest as a subplan before the query around it, so a CTE read there sees the rows after.
const STATS_BEFORE = prepared(`
  SELECT account, ${STATS_COLUMNS.join(', ')}, peak_daily_follows, spam_score FROM account_stats
   WHERE workspace_id = $1 AND account = ANY($2::text[]) FOR UPDATE`);

/** An account's account_stats row before and after a batch (before undefined: the account is new). */
export interface StatsChange {
  account: string;
  before: StatsRow | undefined;
  after: StatsRow;
}

/**
 * Adds the batch's changes to account_stats and refreshes the stored spam score of every account
 * touched. With `observe`, answers each touched account's row before and after (what webhooks
 * compare); otherwise nothing, at no extra cost.
 */
export async function applyStats(tx: Queryable, workspaceId: number, deltas: Deltas, observe = false): Promise<StatsChange[]> {
  const accounts = [...new Set([...deltas.stats.keys(), ...deltas.peaks.keys()])].sort(compare);
  if (accounts.length === 0) return [];
  const columns = STATS_COUNTERS.map((k) => accounts.map((a) => deltas.stats.get(a)?.[k] ?? 0));
  const before = observe ? await tx.query<StatsRow & { account: string }>(STATS_BEFORE, [workspaceId, accounts]) : [];
  const rows = await tx.query<StatsRow & { account: string }>(UPSERT_STATS, [workspaceId, accounts, ...columns, accounts.map((a) => deltas.peaks.get(a) ?? 0)]);
  await storeSpamScores(tx, workspaceId, rows);
  if (!observe) return [];
  const old = new Map(before.map((r) => [r.account, r]));
  return rows.map((after) => ({ account: after.account, before: old.get(after.account), after }));
}

/**
 * Brings every derived table up to date with the queued events `seqs` (none of them folded in
 * before); `events` are those of them the recounts need in memory (RECOUNTED_TYPES, and events
 * that name one account only), the rest are folded in by SQL alone. With `observe`, answers the
 * account_stats rows of the accounts the batch touched, before and after.
 */
export async function applyDerivedState(
  tx: Queryable,
  workspaceId: number,
  seqs: readonly number[],
  events: readonly NormalizedEvent[],
  observe = false,
): Promise<StatsChange[]> {
  if (seqs.length === 0) return [];
  const newIds = new Set(events.map((e) => e.id));
  const deltas = new Deltas();
  // Every account an event names has a row, so the ranking lists exactly the accounts that exist:
  // those of pair events come back from the relationships fold, the others are here.
  for (const e of events) {
    deltas.of(e.actor);
    if (e.target !== null) deltas.of(e.target);
  }
  const fresh = await applyRelationships(tx, workspaceId, seqs, deltas);
  const recount: Recount = { tx, workspaceId, events, newIds, fresh, deltas };
  await applyConversations(recount);
  await applyFollowChurn(recount);
  await applyPosts(tx, workspaceId, events, deltas);
  return applyStats(tx, workspaceId, deltas, observe);
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
